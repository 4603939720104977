package ticketguard.lib.util_test

import data.ticketguard.lib.util

test_as_array_null if util.as_array(null) == []

test_as_array_array if util.as_array(["a", "b"]) == ["a", "b"]

test_as_array_bare_string if util.as_array("a@b.com") == ["a@b.com"]

test_as_array_object if util.as_array({"a": 1}) == [{"a": 1}]

test_as_array_set if util.as_array({"x"}) == ["x"]

test_as_array_empty_array if util.as_array([]) == []

test_norm_addr_primary_prefix if util.norm_addr("SMTP:Support@Acme.COM") == "support@acme.com"

test_norm_addr_secondary_prefix if util.norm_addr("smtp:help@acme.com") == "help@acme.com"

test_norm_addr_trimmed if util.norm_addr("  SmTp: Help@Acme.com  ") == "help@acme.com"

test_norm_addr_plain if util.norm_addr("Help@Acme.com") == "help@acme.com"

test_norm_addr_keeps_other_prefixes if util.norm_addr("SIP:help@acme.com") == "sip:help@acme.com"

test_norm_addr_not_string if not util.norm_addr(null)

test_parse_ref_smtp_bracket if util.parse_ref(`"Atera Ticketing" [SMTP:Acme@Ticketing.Atera.com]`) == "acme@ticketing.atera.com"

test_parse_ref_ex_bracket if {
	ref := `"Support" [EX:/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=abc123-support]`
	util.parse_ref(ref) == "/o=exchangelabs/ou=exchange administrative group (fydibohf23spdlt)/cn=recipients/cn=abc123-support"
}

test_parse_ref_bracket_name_with_brackets if util.parse_ref(`"Help [desk]" [SMTP:help@acme.com]`) == "help@acme.com"

test_parse_ref_smtp_prefix if util.parse_ref("SMTP:A@B.com") == "a@b.com"

test_parse_ref_bare_ex if util.parse_ref("EX:/o=ExchangeLabs/cn=X") == "/o=exchangelabs/cn=x"

test_parse_ref_x500 if util.parse_ref("X500:/o=First/cn=Y") == "/o=first/cn=y"

test_parse_ref_bare_address if util.parse_ref(" Support@Acme.com ") == "support@acme.com"

test_parse_ref_display_name if util.parse_ref("Atera Ticketing") == "atera ticketing"

test_parse_ref_nt_authority if util.parse_ref(`NT AUTHORITY\SELF`) == `nt authority\self`

test_parse_ref_not_string if not util.parse_ref(null)

test_domain_of if util.domain_of("SMTP:Support@Acme.COM") == "acme.com"

test_domain_of_without_at if not util.domain_of("support")

test_is_true_bool if util.is_true(true)

test_is_true_string if util.is_true("True")

test_is_true_false if not util.is_true(false)

test_is_true_null if not util.is_true(null)

test_is_true_other_string if not util.is_true("yes")

test_is_false if {
	util.is_false(false)
	util.is_false("FALSE")
	not util.is_false(null)
	not util.is_false(true)
}

test_strings if util.strings(["a", null, "", "  ", "b"]) == ["a", "b"]

test_strings_bare if util.strings("a") == ["a"]

test_is_blank if {
	util.is_blank(null)
	util.is_blank("")
	util.is_blank(" ")
	util.is_blank([])
	util.is_blank([null, ""])
	not util.is_blank("x")
	not util.is_blank(["x"])
	not util.is_blank([{"a": 1}])
}

test_is_address if {
	util.is_address("SMTP:a@b.com")
	not util.is_address("Atera Ticketing")
	not util.is_address("/o=exchangelabs/cn=x")
}

test_eq_fold if {
	util.eq_fold(" Enabled", "enabled")
	not util.eq_fold("Enabled", "Disabled")
	not util.eq_fold(null, "x")
}

test_starts_fold if {
	util.starts_fold("Standard Preset Security Policy123", "standard preset security policy")
	not util.starts_fold("Custom", "standard")
}

test_quote if {
	util.quote("Support") == `"Support"`
	util.quote(3) == "3"
}
