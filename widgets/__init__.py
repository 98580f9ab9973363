"""The Jupyter layer, installed as ``accelforge.widgets`` (extra ``notebook``).

The core library never imports this package. Its views need ipywidgets, anywidget and plotly:
``pip install "accelforge-explorer[notebook]"``.
"""

__all__: list[str] = []
