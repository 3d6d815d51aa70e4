"""The node-graph canvas: items, scene (mirrors the document), view (zoom, pan, drops)."""
