"""Project records: what every record type a project keeps shares, in one home.

``models.py`` the table base (``ProjectRecord``); ``declaration.py`` the one declaration
of a record type (``RecordType``); ``schemas.py`` the shapes derived from it;
``repository.py`` its reads; ``service.py`` the use cases both doors call; ``rules.py``
rules several record types follow. The doors' counterparts are ``api/rest/records.py``
and ``api/graphql/records.py``; ``control.py`` registers every record type.
"""
