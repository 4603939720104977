package ticketguard.lib.ipnet_test

import data.ticketguard.lib.ipnet

test_to_int_and_back if {
	ipnet.to_int("52.157.175.1") == 882749185
	ipnet.to_ip(882749185) == "52.157.175.1"
	ipnet.to_int("0.0.0.0") == 0
	ipnet.to_int("255.255.255.255") == 4294967295
	ipnet.to_int(" 10.0.0.08 ") == 167772168
}

test_to_int_invalid if {
	not ipnet.to_int("256.1.1.1")
	not ipnet.to_int("1.2.3")
	not ipnet.to_int("1.2.3.4.5")
	not ipnet.to_int("2001:db8::1")
	not ipnet.to_int(null)
	not ipnet.to_int("a.b.c.d")
}

test_interval_forms if {
	ipnet.interval("10.0.0.1") == [167772161, 167772161]
	ipnet.interval("10.0.0.0/24") == [167772160, 167772415]
	ipnet.interval("10.0.0.0/32") == [167772160, 167772160]
	ipnet.interval("0.0.0.0/0") == [0, 4294967295]
	ipnet.interval("10.0.0.1-10.0.0.9") == [167772161, 167772169]
	ipnet.interval(" 10.0.0.1 - 10.0.0.9 ") == [167772161, 167772169]
}

test_interval_cidr_host_bits_masked if {
	ipnet.interval("10.0.0.77/24") == ipnet.interval("10.0.0.0/24")
}

test_interval_invalid if {
	not ipnet.interval("10.0.0.0/33")
	not ipnet.interval("10.0.0.0/")
	not ipnet.interval("10.0.0.9-10.0.0.1")
	not ipnet.interval("10.0.0.0/24/1")
	not ipnet.interval("2001:db8::/32")
	not ipnet.interval("app.atera.com")
}

test_invalid_entries if {
	ipnet.invalid_entries(["1.2.3.4", "2001:db8::1", "bogus", "10.0.0.0/8", null, "1.1.1.300"]) == {"2001:db8::1", "bogus", null, "1.1.1.300"}
	ipnet.invalid_entries(null) == set()
	ipnet.invalid_entries("bogus") == {"bogus"}
}

test_covers_single_ip if {
	ipnet.covers(["54.240.106.94"], "54.240.106.94")
	not ipnet.covers(["54.240.106.94"], "54.240.106.95")
	ipnet.covers("54.240.106.94", "54.240.106.94")
}

test_covers_ip_by_cidr_and_range if {
	ipnet.covers(["54.240.106.0/24"], "54.240.106.95")
	ipnet.covers(["54.240.106.90-54.240.106.99"], "54.240.106.95")
	not ipnet.covers(["54.240.106.90-54.240.106.94"], "54.240.106.95")
}

test_covers_cidr_by_larger_cidr if {
	ipnet.covers(["52.157.0.0/16"], "52.157.175.0/24")
	not ipnet.covers(["52.157.175.0/24"], "52.157.0.0/16")
}

test_covers_two_halves if {
	ipnet.covers(["52.157.175.0/25", "52.157.175.128/25"], "52.157.175.0/24")
	not ipnet.covers(["52.157.175.0/25", "52.157.175.129/32"], "52.157.175.0/24")
}

test_covers_gap_detected if {
	not ipnet.covers(["52.157.175.0/25", "52.157.175.200-52.157.175.255"], "52.157.175.0/24")
}

test_covers_overlapping_and_unordered if {
	ipnet.covers(["10.0.0.100-10.0.0.255", "10.0.0.0/26", "10.0.0.50-10.0.0.120"], "10.0.0.0/24")
	not ipnet.covers(["10.0.0.100-10.0.0.255", "10.0.0.0/26", "10.0.0.65-10.0.0.120"], "10.0.0.0/24")
}

test_covers_mixed_with_invalid_entries if {
	ipnet.covers(["garbage", "2001:db8::/32", "10.0.0.0/24"], "10.0.0.5")
}

test_covers_range_target if {
	ipnet.covers(["10.0.0.0/24"], "10.0.0.10-10.0.0.20")
	not ipnet.covers(["10.0.0.0/24"], "10.0.0.10-10.0.1.20")
}

test_covers_returns_false_not_undefined if {
	ipnet.covers([], "10.0.0.1") == false
	ipnet.covers(["10.0.0.0/24"], "not an ip") == false
	ipnet.covers(null, "10.0.0.1") == false
}

# 256 separate /24s (as Exchange Online forces) cover the /16 together.
_all_24s(second) := [sprintf("52.157.%d.0/24", [i]) | some i in numbers.range(0, 255); i != second]

test_covers_256_slash24_make_a_slash16 if {
	ipnet.covers(_all_24s(-1), "52.157.0.0/16")
	ipnet.covers(array.reverse(_all_24s(-1)), "52.157.0.0/16")
}

test_covers_255_slash24_miss_one if {
	not ipnet.covers(_all_24s(77), "52.157.0.0/16")
	ipnet.uncovered(_all_24s(77), ["52.157.0.0/16", "52.157.76.0/24", "52.157.77.1"]) == {"52.157.0.0/16", "52.157.77.1"}
}

_narrow_facts := {"atera": {"sender_ranges_narrow": [
	"52.157.175.0/24", "40.113.216.0/24", "40.113.221.0/24", "40.113.222.0/24",
	"54.240.3.0/24", "51.144.126.0/24", "40.122.130.0/24",
	"54.240.106.94", "54.240.106.95",
]}}

_narrow_covers_each if {
	narrow := data.ticketguard.facts.atera.sender_ranges_narrow
	every t in narrow {
		ipnet.covers(narrow, t)
	}
	not ipnet.covers(narrow, "52.157.0.0/16")
	not ipnet.covers(narrow, "54.240.106.96")
}

test_covers_atera_narrow_list if {
	_narrow_covers_each with data.ticketguard.facts as _narrow_facts
}

test_exo_acceptable if {
	ipnet.exo_acceptable("1.2.3.4")
	ipnet.exo_acceptable("1.2.3.0/24")
	ipnet.exo_acceptable("1.2.3.4/32")
	ipnet.exo_acceptable("1.2.3.0-1.2.3.255")
	not ipnet.exo_acceptable("1.2.0.0/23")
	not ipnet.exo_acceptable("52.157.0.0/16")
	not ipnet.exo_acceptable("1.2.3.0-1.2.4.0")
	not ipnet.exo_acceptable("2001:db8::1")
	not ipnet.exo_acceptable(null)
}
