"""Loads the grading kit: `pytest` here runs the public tests and prints your points."""

pytest_plugins = ["gradekit.plugin"]
