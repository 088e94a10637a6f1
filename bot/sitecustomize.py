"""Python's start-up hook for Rasa processes (`PYTHONPATH=bot`, see crm_cli/rasa_model.py).

It only installs the measured Rasa 3.6 fixes in `rasa_patches`; nothing else runs here.
"""

try:
    import rasa_patches

    rasa_patches.install()
except ImportError:  # not a Rasa venv (e.g. a tool that shares PYTHONPATH): nothing to fix
    pass
