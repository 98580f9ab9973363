"""Plots of results (AccelForge's ``accelforge.plotting``), drawn with Plotly.

Needs the ``notebook`` extra (Plotly); :mod:`accelforge.plotting.mappings` says so when it is
missing.
"""
