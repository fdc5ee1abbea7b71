import sys

from genredact.cli import main

sys.exit(main())
