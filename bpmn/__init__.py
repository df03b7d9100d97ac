"""The sequence dialect: safe XML, the seq: attributes, expressions, validation and the engine specs."""
