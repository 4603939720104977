package this is not rego {
