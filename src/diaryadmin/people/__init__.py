"""The one vocabulary every domain uses: names, documents, contacts, relations and the words
that mean "none" (blanks)."""
