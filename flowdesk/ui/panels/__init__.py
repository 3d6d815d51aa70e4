"""Side and bottom panels: palette, inspector, run panel, approvals inbox."""
