"""The transactional outbox (`coterie.models.outbox`): writing rows in the business transaction
(`store`), and the state changes of delivering them (`claims`) that the worker drives."""
