"""One fit engine for every fit in swaxs.

:mod:`.window`
    What a fit sees of the data: range, weights, a G(r)'s Q window; the defaults, documented once.
:mod:`.linear`
    Exact weighted least squares of scale and background (the Compare page's live path).
:mod:`.engine`
    A model's parameter table onto a diffpy.srfit recipe, staged refinement with restarts, collection.
:mod:`.result`
    :class:`~swaxs_lib.fit.result.RefinementResult`, the frozen result every fit returns.

The models themselves are declared in :mod:`swaxs_lib.models`.
"""
