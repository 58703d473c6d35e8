"""Vectorised physics of the community's nodes.

Why separate modules: every function here works on numpy arrays for all nodes
at once (one row per time step, one column per node), so the model can keep
~20 µs per household-step; later issues (EV community, DR community) reuse the
EV and appliance physics unchanged.
"""
