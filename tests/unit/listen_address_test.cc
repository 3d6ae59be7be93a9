#include "daemon/listen_address.h"

#include <gtest/gtest.h>

#include <string>

namespace workerd {
namespace {

using Family = ListenAddress::Family;

// The address `text` reads as, which must be valid.
ListenAddress Parse(std::string_view text) {
  std::variant<ListenAddress, std::string> result = ParseListenAddress(text);
  if (const std::string* error = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << text << ": " << *error;
    return {};
  }
  return std::get<ListenAddress>(result);
}

// The error of `text`, which must be invalid.
std::string Error(std::string_view text) {
  std::variant<ListenAddress, std::string> result = ParseListenAddress(text);
  if (const ListenAddress* address = std::get_if<ListenAddress>(&result)) {
    ADD_FAILURE() << text << " is valid: " << address->ToString();
    return "";
  }
  return std::get<std::string>(result);
}

ListenAddress Inet(std::string host, int port) {
  return {Family::kInet, std::move(host), port, ""};
}
ListenAddress Inet6(std::string host, int port) {
  return {Family::kInet6, std::move(host), port, ""};
}
ListenAddress Unix(std::string path) {
  return {Family::kUnix, "", 0, std::move(path)};
}

constexpr std::string_view kForms =
    R"("HOST:PORT" such as "127.0.0.1:8080", "[::]:8080" or "unix:/run/app.sock")";

// ---------------------------------------------------------------------------
// Valid addresses.

TEST(ParseListenAddressTest, ReadsIPv4) {
  EXPECT_EQ(Parse("127.0.0.1:8000"), Inet("127.0.0.1", 8000));
  EXPECT_EQ(Parse("0.0.0.0:80"), Inet("0.0.0.0", 80));
  EXPECT_EQ(Parse("192.0.2.10:443"), Inet("192.0.2.10", 443));
  EXPECT_EQ(Parse("255.255.255.255:1"), Inet("255.255.255.255", 1));
}

TEST(ParseListenAddressTest, StarMeansEveryIPv4Address) {
  EXPECT_EQ(Parse("*:8080"), Inet("0.0.0.0", 8080));
}

TEST(ParseListenAddressTest, LocalhostIsTheIPv4Loopback) {
  EXPECT_EQ(Parse("localhost:8080"), Inet("127.0.0.1", 8080));
  EXPECT_EQ(Parse("LocalHost:8080"), Inet("127.0.0.1", 8080));
}

TEST(ParseListenAddressTest, ReadsIPv6InBrackets) {
  EXPECT_EQ(Parse("[::1]:8000"), Inet6("::1", 8000));
  EXPECT_EQ(Parse("[::]:80"), Inet6("::", 80));
  EXPECT_EQ(Parse("[2001:db8::10]:443"), Inet6("2001:db8::10", 443));
}

TEST(ParseListenAddressTest, IPv6HostsAreCanonical) {
  EXPECT_EQ(Parse("[::0]:80"), Inet6("::", 80));
  EXPECT_EQ(Parse("[0:0:0:0:0:0:0:1]:80"), Inet6("::1", 80));
  EXPECT_EQ(Parse("[2001:DB8::A]:80"), Inet6("2001:db8::a", 80));
  EXPECT_EQ(Parse("[::FFFF:127.0.0.1]:80"), Inet6("::ffff:127.0.0.1", 80));
}

TEST(ParseListenAddressTest, ReadsUnixPathsAsWritten) {
  EXPECT_EQ(Parse("unix:/run/app.sock"), Unix("/run/app.sock"));
  // The config loader resolves relative paths; the parser does not.
  EXPECT_EQ(Parse("unix:app.sock"), Unix("app.sock"));
  EXPECT_EQ(Parse("unix:../run/app.sock"), Unix("../run/app.sock"));
  EXPECT_EQ(Parse("unix:/run/my app.sock"), Unix("/run/my app.sock"));
  EXPECT_EQ(Parse("unix://run//a.sock"), Unix("//run//a.sock"));
}

TEST(ParseListenAddressTest, UnixPathsMayFillSunPath) {
  const std::string longest = "/" + std::string(106, 'x');
  ASSERT_EQ(longest.size(), kMaxUnixSocketPath);
  EXPECT_EQ(Parse("unix:" + longest), Unix(longest));
}

TEST(ParseListenAddressTest, PortsAreDecimalFrom1To65535) {
  EXPECT_EQ(Parse("127.0.0.1:1").port, 1);
  EXPECT_EQ(Parse("127.0.0.1:65535").port, 65535);
  EXPECT_EQ(Parse("[::1]:65535").port, 65535);
  // Leading zeros are still decimal.
  EXPECT_EQ(Parse("127.0.0.1:08080").port, 8080);
  EXPECT_EQ(Parse("127.0.0.1:00000000000000000001").port, 1);
}

TEST(ListenAddressTest, ToString) {
  EXPECT_EQ(Inet("127.0.0.1", 8000).ToString(), "127.0.0.1:8000");
  EXPECT_EQ(Inet6("::1", 8000).ToString(), "[::1]:8000");
  EXPECT_EQ(Unix("/run/app.sock").ToString(), "unix:/run/app.sock");
  EXPECT_EQ(Parse("*:80").ToString(), "0.0.0.0:80");
  EXPECT_EQ(Parse("localhost:80").ToString(), "127.0.0.1:80");
  EXPECT_EQ(Parse("[::0]:80").ToString(), "[::]:80");
}

TEST(ListenAddressTest, ToStringReadsBackAsTheSameAddress) {
  for (const char* text :
       {"127.0.0.1:8000", "*:1", "localhost:65535", "[::1]:8000",
        "[2001:db8::1]:443", "[::ffff:10.0.0.1]:80", "unix:/run/app.sock",
        "unix:rel/a.sock"}) {
    const ListenAddress address = Parse(text);
    EXPECT_EQ(Parse(address.ToString()), address) << text;
  }
}

// ---------------------------------------------------------------------------
// Errors: each says what is wrong and what to write.

TEST(ParseListenAddressErrorTest, Empty) {
  EXPECT_EQ(Error(""),
            "an empty string is not an address: write " + std::string(kForms));
}

TEST(ParseListenAddressErrorTest, MissingPort) {
  EXPECT_EQ(Error("localhost"),
            R"("localhost" has no port: write it like "localhost:8080")");
  EXPECT_EQ(Error("127.0.0.1"),
            R"("127.0.0.1" has no port: write it like "127.0.0.1:8080")");
  EXPECT_EQ(Error("*"), R"("*" has no port: write it like "*:8080")");
  EXPECT_EQ(Error("app"), R"("app" has no port: write )" + std::string(kForms));
  EXPECT_EQ(Error("127.0.0.1:"),
            R"("127.0.0.1:" has no port: write it like "127.0.0.1:8080")");
  EXPECT_EQ(Error("*:"), R"("*:" has no port: write it like "*:8080")");
  EXPECT_EQ(Error("[::1]"),
            R"("[::1]" has no port: write it like "[::1]:8080")");
  EXPECT_EQ(Error("[::1]:"),
            R"("[::1]:" has no port: write it like "[::1]:8080")");
}

TEST(ParseListenAddressErrorTest, MissingHost) {
  EXPECT_EQ(
      Error("8080"),
      R"("8080" has no host: write "127.0.0.1:8080" for this machine only, or "*:8080" for every address)");
  EXPECT_EQ(
      Error(":8080"),
      R"(":8080" has no host: write "127.0.0.1:8080" for this machine only, or "*:8080" for every address)");
  EXPECT_EQ(Error(":"),
            R"(":" is not an address: write )" + std::string(kForms));
  EXPECT_EQ(Error(":http"),
            R"(":http" is not an address: write )" + std::string(kForms));
}

TEST(ParseListenAddressErrorTest, BadPorts) {
  EXPECT_EQ(
      Error("127.0.0.1:http"),
      R"("127.0.0.1:http": the port "http" is not a number; a port is a number from 1 to 65535)");
  EXPECT_EQ(
      Error("127.0.0.1:-1"),
      R"("127.0.0.1:-1": the port "-1" is not a number; a port is a number from 1 to 65535)");
  EXPECT_EQ(
      Error("127.0.0.1:+80"),
      R"("127.0.0.1:+80": the port "+80" is not a number; a port is a number from 1 to 65535)");
  EXPECT_EQ(
      Error("127.0.0.1:0x50"),
      R"("127.0.0.1:0x50": the port "0x50" is not a number; a port is a number from 1 to 65535)");
  EXPECT_EQ(
      Error("127.0.0.1:80.0"),
      R"("127.0.0.1:80.0": the port "80.0" is not a number; a port is a number from 1 to 65535)");
  EXPECT_EQ(
      Error("127.0.0.1:0"),
      R"("127.0.0.1:0": the port must not be 0; workers need a known port, from 1 to 65535)");
  EXPECT_EQ(
      Error("[::]:000"),
      R"("[::]:000": the port must not be 0; workers need a known port, from 1 to 65535)");
  EXPECT_EQ(
      Error("127.0.0.1:65536"),
      R"("127.0.0.1:65536": the port "65536" is out of range; a port is a number from 1 to 65535)");
  EXPECT_EQ(
      Error("127.0.0.1:99999999999999999999999"),
      R"("127.0.0.1:99999999999999999999999": the port "99999999999999999999999" is out of range; a port is a number from 1 to 65535)");
  EXPECT_EQ(
      Error("[::1]:70000"),
      R"("[::1]:70000": the port "70000" is out of range; a port is a number from 1 to 65535)");
  EXPECT_EQ(
      Error("[::1]:80:90"),
      R"("[::1]:80:90": the port "80:90" is not a number; a port is a number from 1 to 65535)");
}

TEST(ParseListenAddressErrorTest, HostNamesAreNotResolved) {
  EXPECT_EQ(
      Error("example.com:8080"),
      R"("example.com:8080": host names are not resolved; use a numeric address such as "127.0.0.1:8080" (or "localhost:8080"), or "*:8080" for every address)");
  EXPECT_EQ(
      Error("my-host:80"),
      R"("my-host:80": host names are not resolved; use a numeric address such as "127.0.0.1:80" (or "localhost:80"), or "*:80" for every address)");
  EXPECT_EQ(
      Error("[example.com]:80"),
      R"("[example.com]:80": "example.com" is not a numeric IPv6 address (host names are not resolved))");
}

TEST(ParseListenAddressErrorTest, BadIPv4) {
  const std::string advice =
      R"( is not an IPv4 address; write four numbers from 0 to 255 without leading zeros, like "127.0.0.1")";
  EXPECT_EQ(Error("127.0.0.256:80"),
            R"("127.0.0.256:80": "127.0.0.256")" + advice);
  EXPECT_EQ(Error("127.1:80"), R"("127.1:80": "127.1")" + advice);
  EXPECT_EQ(Error("01.2.3.4:80"), R"("01.2.3.4:80": "01.2.3.4")" + advice);
  EXPECT_EQ(Error("1.2.3.4.5:80"), R"("1.2.3.4.5:80": "1.2.3.4.5")" + advice);
}

TEST(ParseListenAddressErrorTest, IPv6NeedsBrackets) {
  EXPECT_EQ(
      Error("::1:8080"),
      R"("::1:8080": an IPv6 address goes in brackets, like "[::1]:8080")");
  EXPECT_EQ(
      Error("2001:db8::1:443"),
      R"("2001:db8::1:443": an IPv6 address goes in brackets, like "[2001:db8::1]:443")");
  EXPECT_EQ(Error("::1"), R"("::1" has no port: write it like "[::1]:8080")");
  EXPECT_EQ(Error("::"), R"("::" has no port: write it like "[::]:8080")");
  EXPECT_EQ(Error("fe80::1"),
            R"("fe80::1" has no port: write it like "[fe80::1]:8080")");
  EXPECT_EQ(Error("1:2:3"),
            R"("1:2:3" is not an address: write )" + std::string(kForms));
}

TEST(ParseListenAddressErrorTest, BadBrackets) {
  EXPECT_EQ(
      Error("[::1"),
      R"("[::1" has no "]" after the IPv6 address: write it like "[::1]:8080")");
  EXPECT_EQ(
      Error("[]:80"),
      R"("[]:80" has no address in the brackets: write it like "[::1]:8080", or "[::]:8080" for every address)");
  EXPECT_EQ(
      Error("[::1]8080"),
      R"("[::1]8080" needs a ":" between "]" and the port: write it like "[::1]:8080")");
  EXPECT_EQ(
      Error("[::1]x:80"),
      R"("[::1]x:80" needs a ":" between "]" and the port: write it like "[::1]:8080")");
  EXPECT_EQ(
      Error("[127.0.0.1]:80"),
      R"("[127.0.0.1]:80": brackets are for IPv6 addresses only; write "127.0.0.1:80")");
  EXPECT_EQ(Error("[127.0.0.1]"),
            R"("[127.0.0.1]": brackets are for IPv6 addresses only; write )" +
                std::string(kForms));
  EXPECT_EQ(
      Error("[fe80::1%eth0]:80"),
      R"("[fe80::1%eth0]:80": "fe80::1%eth0" is not a numeric IPv6 address (host names are not resolved))");
  EXPECT_EQ(
      Error("[*]:80"),
      R"("[*]:80": "*" is not a numeric IPv6 address (host names are not resolved))");
}

TEST(ParseListenAddressErrorTest, BadUnixPaths) {
  EXPECT_EQ(Error("unix:"),
            R"("unix:" has no path: write it like "unix:/run/app.sock")");
  EXPECT_EQ(
      Error("unix:/run/"),
      R"("unix:/run/" names a directory: a Unix socket is a file, like "unix:/run/app.sock")");
  EXPECT_EQ(Error(std::string_view("unix:/a\0b", 9)),
            R"("unix:/a\u0000b" must not contain a NUL character)");
  const std::string too_long = "/" + std::string(107, 'x');
  EXPECT_EQ(Error("unix:" + too_long),
            "\"unix:/" + std::string(74, 'x') +
                "...\" has a path longer than the 107 bytes a Unix socket "
                "path may have");
}

TEST(ParseListenAddressErrorTest, UnixPrefixInAnotherCase) {
  EXPECT_EQ(
      Error("UNIX:/run/a.sock"),
      R"("UNIX:/run/a.sock": write the prefix in lower case, "unix:/run/a.sock")");
  EXPECT_EQ(Error("Unix:x"),
            R"("Unix:x": write the prefix in lower case, "unix:x")");
}

TEST(ParseListenAddressErrorTest, PathsWithoutThePrefix) {
  EXPECT_EQ(
      Error("/run/app.sock"),
      R"("/run/app.sock" looks like a path: write "unix:/run/app.sock" for a Unix socket)");
  EXPECT_EQ(
      Error("./app.sock"),
      R"("./app.sock" looks like a path: write "unix:./app.sock" for a Unix socket)");
  EXPECT_EQ(
      Error("../app.sock"),
      R"("../app.sock" looks like a path: write "unix:../app.sock" for a Unix socket)");
}

TEST(ParseListenAddressErrorTest, Urls) {
  EXPECT_EQ(
      Error("http://127.0.0.1:8080/"),
      R"("http://127.0.0.1:8080/" is a URL, not an address: write "127.0.0.1:8080")");
  EXPECT_EQ(Error("tcp://[::]:80"),
            R"("tcp://[::]:80" is a URL, not an address: write "[::]:80")");
  EXPECT_EQ(Error("http://example.com/"),
            R"("http://example.com/" is a URL, not an address: write )" +
                std::string(kForms));
}

TEST(ParseListenAddressErrorTest, Spaces) {
  EXPECT_EQ(Error(" 127.0.0.1:80"),
            R"(" 127.0.0.1:80" must not contain spaces: write "127.0.0.1:80")");
  EXPECT_EQ(
      Error("127.0.0.1: 80\n"),
      R"("127.0.0.1: 80\n" must not contain spaces: write "127.0.0.1:80")");
  EXPECT_EQ(Error("127.0.0.1 80"),
            R"("127.0.0.1 80" must not contain spaces: write )" +
                std::string(kForms));
}

}  // namespace
}  // namespace workerd
