from cchc_lib.cli import run

run()
