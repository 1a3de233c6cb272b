"""Great Expectations suites for the raw input and the runner that writes the validation report.

Importing this package is cheap: Great Expectations itself is imported only by validation.gx,
when a validation actually runs.
"""
