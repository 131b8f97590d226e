"""Small-angle scattering analysis: Guinier and Porod, form-factor fits, size distributions, indexing.

One module per analysis, each with its own command and its own section of the
SAXS page (``pages/saxs.py``):

- :mod:`.guinier`: the automatic Guinier range, R_g and I(0) with their
  uncertainties, the Porod exponent and constant, Kratky and Porod views
  (``python -m swaxs_lib guinier``); :mod:`.porod` fits I = K Q^-n + B at
  high Q; :mod:`._fitting` holds their weighted least squares.
- :mod:`.sasfit`: fits of any sasmodels model by name with polydispersity,
  structure factors and resolution smearing, through the fit engine
  (``python -m swaxs_lib fit-saxs``).
- :mod:`.sizedist`: a sphere-size distribution with no assumed shape of
  distribution, its uncertainty bands and the observable size window
  (``python -m swaxs_lib size-distribution``); :mod:`._maxent` is the
  maximum-entropy solver.
- :mod:`.clusters`: atomistic clusters (our Debye I(Q)) and size ladders as
  SAXS models.
- :mod:`.indexing`: Bragg peaks of ordered assemblies and ranked lattice
  hypotheses (``python -m swaxs_lib index-peaks``).

Q is in 1/Å throughout (converted once, at the reader); sizes in Å.
"""
