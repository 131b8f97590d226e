"""Small-angle scattering analysis: Guinier and Porod, form-factor fits, size distributions, indexing.

One analysis per module, each with its own command and its own section of the
SAXS page (``pages/saxs.py``):

- :mod:`.guinier`: the automatic Guinier range, R_g and I(0) with their
  uncertainties, Kratky and Porod views; :mod:`.porod` fits I = K Q^-n + B at
  high Q; :mod:`._fitting` holds their weighted least squares
  (``python -m swaxs_lib guinier``).
- :mod:`.sasfit`: fits of any sasmodels model by name (its parameter table from
  :mod:`swaxs_lib.models.sasview`) with polydispersity, structure factors and
  resolution smearing, through the fit engine; :mod:`.sascurve` evaluates a
  model on measured points, :mod:`._starts` finds automatic starts
  (``python -m swaxs_lib fit-saxs``).
- :mod:`.sizedist`: a sphere-size distribution with no assumed shape of
  distribution (maximum entropy, :mod:`._maxent`, or McSAS-like Monte Carlo),
  its uncertainty band and the observable size window
  (``python -m swaxs_lib size-distribution``).
- :mod:`.clusters` and :mod:`.cluster_fit`: atomistic clusters (our Debye I(Q))
  and size ladders of one family as SAXS models
  (``python -m swaxs_lib fit-saxs-cluster``).
- :mod:`.indexing`: Bragg peaks of ordered assemblies (:mod:`.peaks`) and
  ranked lattice hypotheses (:mod:`.lattices`)
  (``python -m swaxs_lib index-peaks``).

Q is in 1/Å throughout (converted once, at the reader); sizes in Å.
"""
