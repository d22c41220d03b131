"""The sample app's own tests, run in the app's own environment (app/requirements-test.txt).

The app's package (`webapp`) lives beside this directory, so the app's root goes on sys.path:
the tests import it as gunicorn does in the image, whatever directory pytest starts in.
"""

import sys
from pathlib import Path

APP_DIR = Path(__file__).resolve().parents[1]
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))
