import sys

from cchc_lib.cli import main

sys.exit(main())
