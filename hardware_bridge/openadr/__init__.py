"""OpenADR 2.0b on the wire, through openleadr (the optional ``openadr`` extra).

Why here and lazily imported: OpenADR is a protocol between a VTN (the utility,
aggregator or central market that issues events) and VENs (the sites that
receive them); like the LoRa network servers it belongs to ``hardware_bridge``,
which knows protocols but not markets. openleadr is imported only when a VTN or
VEN starts, so gridcoop installs and runs without it.

- :class:`~gridcoop.hardware_bridge.openadr.vtn.Vtn`: gridcoop's VTN. VENs register,
  receive SIMPLE-level events, opt in or out (``oadrCreatedEvent``) and send
  metered reports (``TELEMETRY_USAGE``).
- :class:`~gridcoop.hardware_bridge.openadr.ven.Ven`: gridcoop's VEN, for a DR
  household or a gateway in front of appliances, against any 2.0b VTN.

Both run openleadr's asyncio code on a thread of their own and hand what
happened to the caller's thread as plain records (:mod:`.records`).
"""
