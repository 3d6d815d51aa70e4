"""Widgets only: the main window, the canvas, and the panels. They edit through the
document (undo commands) and run through the RunController; they never touch the database
or run a step themselves."""
