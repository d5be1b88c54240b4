"""Declared resources: what every declared type shares, in one home.

``declaration.py`` the one declaration of a top-level resource type (``ResourceType``)
and what a project's record type (``records/declaration.py``) shares with it
(``Declared``); ``fields.py`` fields, filters and sorts; ``schemas.py`` the shapes
derived from a declaration; ``repository.py`` its reads; ``service.py`` the use cases
both doors call for a resource type. The doors' counterparts are
``api/rest/resources.py`` and ``api/graphql/resources.py`` (and ``declared.py``);
``control.py`` registers every declared type.
"""
