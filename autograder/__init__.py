"""Autograder for deep-learning courses: release, isolated grading, exports."""

__version__ = "0.1.0"
