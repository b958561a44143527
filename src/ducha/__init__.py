"""ducha (督查): the monthly 精准扶贫专题督查 as an Excel add-in and a command line."""

__version__ = "0.1.0"
