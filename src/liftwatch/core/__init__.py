"""Cross-cutting parts every domain uses: settings, database, clock, errors, security, i18n."""
