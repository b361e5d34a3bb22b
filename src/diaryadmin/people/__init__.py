"""The one vocabulary every domain uses: names, documents, contacts and relations."""
