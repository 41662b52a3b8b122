import Foundation
import LatchkeyOAuthClient
import Testing

@Suite struct AddressClassifierTests {
    /// Every literal form the system resolver reads, as the address it names.
    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"), ("127.0.1", "127.0.0.1"), ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"), ("0X7F000001", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("0x7f.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"), ("017700000001", "127.0.0.1"), ("10.0x10.010.1", "10.16.8.1"), ("0", "0.0.0.0"),
        ("0x08080808", "8.8.8.8"), ("134744072", "8.8.8.8"), ("::1", "::1"), ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
        ("::ffff:7f00:1", "::ffff:127.0.0.1"), ("2606:4700::1", "2606:4700::1"),
    ])
    func literalFormsAreRead(text: String, address: String) {
        #expect(AddressClassifier.literal(text)?.description == address, "\(text)")
    }

    @Test(arguments: [
        "example.com", "256.1.1.1", "1.2.3.4.5", "1.256.0.1", "0x1.0x2.0x3.0x100", "08.0.0.1", "4294967296", "1..2", "", "::g", "127.0.0.1x",
    ])
    func namesAndNonAddressesAreNotLiterals(text: String) {
        #expect(AddressClassifier.literal(text) == nil, "\(text)")
    }

    /// Hosts refused without `--allow-private-network`, with the reason the person reads.
    @Test(arguments: [
        ("127.0.0.1", "it is a loopback address (this machine)"),
        ("127.1", "it is a loopback address (this machine)"),
        ("2130706433", "it is a loopback address (this machine)"),
        ("0x7f000001", "it is a loopback address (this machine)"),
        ("0177.0.0.1", "it is a loopback address (this machine)"),
        ("0.0.0.0", "it is an unspecified address (0.0.0.0/8, this machine)"),
        ("0.1.2.3", "it is an unspecified address (0.0.0.0/8, this machine)"),
        ("10.0.0.5", "it is a private address"),
        ("172.16.0.1", "it is a private address"),
        ("172.31.255.255", "it is a private address"),
        ("192.168.1.1", "it is a private address"),
        ("169.254.169.254", "it is a link-local address"),
        ("100.64.0.1", "it is a shared carrier-grade NAT address (100.64.0.0/10)"),
        ("100.127.255.255", "it is a shared carrier-grade NAT address (100.64.0.0/10)"),
        ("198.18.0.1", "it is a benchmarking address (198.18.0.0/15)"),
        ("198.19.255.254", "it is a benchmarking address (198.18.0.0/15)"),
        ("192.0.0.8", "it is a reserved address (192.0.0.0/24)"),
        ("192.0.2.1", "it is a documentation address"),
        ("198.51.100.7", "it is a documentation address"),
        ("203.0.113.9", "it is a documentation address"),
        ("224.0.0.1", "it is a multicast address"),
        ("239.255.255.250", "it is a multicast address"),
        ("255.255.255.255", "it is the broadcast address"),
        ("240.0.0.1", "it is a reserved address (240.0.0.0/4)"),
        ("[::1]", "it is a loopback address (this machine)"),
        ("::", "it is an unspecified address (this machine)"),
        ("[::ffff:127.0.0.1]", "it is an IPv4-mapped address carrying 127.0.0.1, a loopback address (this machine)"),
        ("::ffff:a9fe:a9fe", "it is an IPv4-mapped address carrying 169.254.169.254, a link-local address"),
        ("::ffff:0:10.0.0.1", "it is an IPv4-translated address carrying 10.0.0.1, a private address"),
        ("::127.0.0.1", "it is an IPv4-compatible address carrying 127.0.0.1, a loopback address (this machine)"),
        ("::8.8.8.8", "it is a reserved address"),
        ("64:ff9b::10.0.0.5", "it is a NAT64 address carrying 10.0.0.5, a private address"),
        ("64:ff9b::a9fe:a9fe", "it is a NAT64 address carrying 169.254.169.254, a link-local address"),
        ("64:ff9b:1::808:808", "it is a local-use NAT64 address (64:ff9b:1::/48)"),
        ("2002:7f00:1::", "it is a 6to4 address carrying 127.0.0.1, a loopback address (this machine)"),
        ("2002:c0a8:101::1", "it is a 6to4 address carrying 192.168.1.1, a private address"),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffa", "it is a Teredo address carrying 10.0.0.5, a private address"),
        ("100::1", "it is a discard-only address (100::/64)"),
        ("2001:db8::1", "it is a documentation address (2001:db8::/32)"),
        ("3fff::1", "it is a documentation address (3fff::/20)"),
        ("fc00::1", "it is a private address (unique local, fc00::/7)"),
        ("fd12:3456::1", "it is a private address (unique local, fc00::/7)"),
        ("fe80::1", "it is a link-local address"),
        ("febf::1", "it is a link-local address"),
        ("fec0::1", "it is a private address (site-local, fec0::/10)"),
        ("ff02::1", "it is a multicast address"),
        ("localhost", "it names this machine"),
        ("LOCALHOST", "it names this machine"),
        ("localhost.", "it names this machine"),
        ("api.localhost", "it names this machine"),
        ("localhost.localdomain", "it names this machine"),
        ("localhost.localdomain.", "it names this machine"),
        ("ip6-localhost", "it names this machine"),
        ("127.0.0.1.", "it is a loopback address (this machine)"),
        ("0x7f000001.", "it is a loopback address (this machine)"),
    ])
    func nonPublicHostsAreRefusedWithAReason(host: String, reason: String) {
        #expect(AddressClassifier.refusal(host: host) == reason, "\(host)")
    }

    @Test(arguments: [
        "8.8.8.8", "0x08080808", "134744072", "1.1.1.1", "93.184.215.14", "100.63.255.255", "100.128.0.1", "172.15.255.255", "172.32.0.1",
        "192.169.0.1", "198.17.255.255", "198.20.0.1", "223.255.255.255", "2606:4700::1", "[2606:4700::1111]", "2a00:1450:4001::200e",
        "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1", "2001:0:4136:e378:8000:63bf:f7f7:f7f7", "fbff::1", "example.com",
        "localhost.example.com", "mylocalhost",
    ])
    func publicAddressesAndOrdinaryNamesPass(host: String) {
        #expect(AddressClassifier.refusal(host: host) == nil, "\(host)")
    }

    @Test func aNameIsJudgedByWhatItResolvesTo() throws {
        let private4 = try #require(AddressClassifier.literal("10.1.2.3"))
        let nat64 = try #require(AddressClassifier.literal("64:ff9b::7f00:1"))
        let publicAddress = try #require(AddressClassifier.literal("8.8.8.8"))
        #expect(AddressClassifier.refusal(name: "intranet.example", resolvedTo: private4) == "it resolves to 10.1.2.3, a private address")
        #expect(
            AddressClassifier.refusal(name: "v6.example", resolvedTo: nat64)
                == "it resolves to 64:ff9b::7f00:1, a NAT64 address carrying 127.0.0.1, a loopback address (this machine)"
        )
        #expect(AddressClassifier.refusal(name: "dns.example", resolvedTo: publicAddress) == nil)
    }

    @Test func hostsAreReadWithoutBracketsTrailingDotsOrCase() {
        #expect(AddressClassifier.host("[::1]") == .address(AddressClassifier.literal("::1")!))
        #expect(AddressClassifier.host("Example.COM.") == .name("example.com"))
        #expect(AddressClassifier.host("Sub.Localhost") == .thisMachine("sub.localhost"))
    }
}
