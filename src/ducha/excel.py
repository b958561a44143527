"""The add-in's entry point: every ribbon button runs `RunPython "import ducha.excel as x; x.run('<id>')"`."""

from ducha.app.excel import calling_book, run, run_on_book

__all__ = ["calling_book", "run", "run_on_book"]
