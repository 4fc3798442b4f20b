"""The GraphQL layer: types mapped by hand from models, relations loaded once per page, resolvers without SQL."""
