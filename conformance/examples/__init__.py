"""Example backends for the README's walkthrough "validate your own implementation".

``student`` is written as a student would write it (plain NumPy, loops over output positions,
a backward function next to each forward); ``student_buggy`` is the same file with one
realistic bug. Check them with ``nnspec run --backend conformance.examples.student``.
"""
