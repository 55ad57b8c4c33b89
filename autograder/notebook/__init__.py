"""Notebooks as a first-class route: hand-ins read as definitions only, a released student
notebook, per-cell feedback, and (optional extra) scores exported into an nbgrader gradebook."""
