"""Student-side test kit: the fixtures, checks and reporting that assignment tests use.

It depends only on pytest and numpy, so that it can be copied verbatim into every released
student folder and run there with nothing but pytest, numpy and torch installed.
"""

__version__ = "0.1.0"
