"""`python -m ducha …` is the `ducha` command."""

import gc


def run() -> int:
    """The `ducha` command. Loading the modules creates many objects and no garbage, so the cyclic collector is off
    meanwhile; they are then frozen (never scanned again) and the collector runs as usual for the command."""
    gc.disable()
    from ducha.app.cli import main

    gc.freeze()
    gc.enable()
    return main()


if __name__ == "__main__":
    raise SystemExit(run())
