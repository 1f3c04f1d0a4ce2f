"""The bundled Python language runtime.

``bootstrap.py`` in this folder is run as a script (``python -S -u bootstrap.py``) inside every
Python execution environment and drives the Lambda Runtime API exactly like AWS's
``awslambdaric``. It and its ``lambdabox_*`` sibling modules use the standard library only and
never import ``lambdabox``: they run in a separate interpreter without site-packages.
"""
