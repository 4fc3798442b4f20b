"""The GraphQL layer: types mapped by hand from models, per-request DataLoaders, resolvers without SQL."""
