"""The sequence dialect: safe XML loading, the seq: attributes, expressions, validation and the engine specs."""
