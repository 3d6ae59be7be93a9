#include "daemon/notify_message.h"

#include <charconv>
#include <cstdint>

namespace workerd {
namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

// The length of the well-formed UTF-8 sequence at the start of `text` and
// its code point, or 0 when the first byte starts no such sequence
// (overlong forms, surrogates and values past U+10FFFF are ill-formed).
std::size_t DecodeUtf8(std::string_view text, char32_t& code_point) {
  auto byte = [&](std::size_t i) { return static_cast<uint8_t>(text[i]); };
  uint8_t lead = byte(0);
  if (lead < 0x80) {
    code_point = lead;
    return 1;
  }
  std::size_t length;
  uint8_t second_min = 0x80;
  uint8_t second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;  // overlong
    if (lead == 0xED) second_max = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // overlong
    if (lead == 0xF4) second_max = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  if (byte(1) < second_min || byte(1) > second_max) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  code_point = lead & (0x7F >> length);
  for (std::size_t i = 1; i < length; ++i) {
    code_point = (code_point << 6) | (byte(i) & 0x3F);
  }
  return length;
}

// Characters that would break a log line or a table row: C0 controls
// (newline, tab, escape ...), DEL, C1 controls (U+009B introduces escape
// sequences in some terminals) and the Unicode line and paragraph
// separators.
bool BreaksALine(char32_t c) {
  return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x2028 || c == 0x2029;
}

// The status as one printable line of valid UTF-8 (it ends up in logs and
// in JSON, which must be valid UTF-8), at most kMaxNotifyStatus bytes.
std::string CleanStatus(std::string_view text) {
  std::string status;
  while (!text.empty()) {
    char32_t code_point = 0;
    std::size_t length = DecodeUtf8(text, code_point);
    std::string_view piece;
    if (length == 0) {
      piece = kReplacementCharacter;
      length = 1;
    } else if (BreaksALine(code_point)) {
      piece = " ";
    } else {
      piece = text.substr(0, length);
    }
    if (status.size() + piece.size() > kMaxNotifyStatus) break;
    status.append(piece);
    text.remove_prefix(length);
  }
  return status;
}

// A non-negative decimal number that fits an int, nothing else.
std::optional<int> ParseErrno(std::string_view text) {
  if (text.empty() || text[0] < '0' || text[0] > '9') return std::nullopt;
  int value = 0;
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

void Apply(std::string_view key, std::string_view value,
           NotifyMessage& message) {
  if (key == "READY") {
    if (value == "1") message.ready = true;
  } else if (key == "STOPPING") {
    if (value == "1") message.stopping = true;
  } else if (key == "RELOADING") {
    if (value == "1") message.reloading = true;
  } else if (key == "WATCHDOG") {
    if (value == "1") message.watchdog = true;
    if (value == "trigger") message.watchdog_trigger = true;
  } else if (key == "STATUS") {
    message.status = CleanStatus(value);
  } else if (key == "ERRNO") {
    if (auto number = ParseErrno(value)) message.error_number = number;
  }
}

}  // namespace

bool NotifyMessage::Empty() const {
  return !ready && !stopping && !reloading && !watchdog && !watchdog_trigger &&
         !status && !error_number;
}

NotifyMessage ParseNotifyMessage(std::string_view datagram) {
  NotifyMessage message;
  while (!datagram.empty()) {
    std::size_t end = datagram.find('\n');
    std::string_view line = datagram.substr(0, end);
    datagram.remove_prefix(end == std::string_view::npos ? datagram.size()
                                                         : end + 1);
    std::size_t equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    Apply(line.substr(0, equals), line.substr(equals + 1), message);
  }
  return message;
}

}  // namespace workerd
