"""The DR community: appliance templates, flexibility, OpenADR-style commands, compliance.

Why a package of pure functions over device arrays: the Mesa agents (a DR
household, its regional aggregator, the central market) call these each step;
every piece can be tested alone and the same physics serves the run, the
flexibility forecast and each command's comfort check.

Flow of one DR transaction unit (5 minutes by default):

1. :class:`gridcoop.agents.mechanisms.dr.fleet.DRFleet` holds every device's state and steps it.
2. :func:`gridcoop.agents.mechanisms.dr.flexibility.forecast_flexibility` gives each device's
   baseline and up/down flexibility over the coming hours;
   :func:`gridcoop.agents.mechanisms.dr.aggregation.aggregate` sums it per RA and template.
3. The central market shares excess with
   :func:`gridcoop.market.excess_sharing.share_excess` (request built by
   :func:`gridcoop.agents.mechanisms.dr.aggregation.market_demand`); utilities send
   :class:`gridcoop.agents.mechanisms.dr.openadr.OpenADREvent` s; both become
   :class:`gridcoop.agents.mechanisms.dr.openadr.ApplianceCommand` s.
4. :func:`gridcoop.agents.mechanisms.dr.response.respond`: households opt in within comfort.
5. :mod:`gridcoop.agents.mechanisms.dr.compliance`: meters verify, tokens and penalties, rankings.
"""
