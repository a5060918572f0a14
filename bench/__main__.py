"""`python -m bench ...` (from the repository root): the benchmark command line (`bench.cli`)."""

from bench.cli import app

if __name__ == "__main__":
    app(prog_name="python -m bench")
