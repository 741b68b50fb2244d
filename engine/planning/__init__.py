"""Planning: composes street, transit and parking searches into trips people can take.

Public face: :class:`PlanOptions` (every default, defined once), :func:`plan_trip`,
:func:`travel_time_matrix`, :func:`reachable_area`.
"""
