#include "daemon/line_splitter.h"

namespace workerd {

std::size_t LineSplitter::CutPoint(std::string_view text) const {
  std::size_t cut = max_line_;
  // Back up over continuation bytes (10xxxxxx) to the start of the
  // character that straddles the limit. A UTF-8 character has at most
  // three of them; text that is not UTF-8 is cut at the limit.
  for (std::size_t back = 0; back < 3 && cut > 0; ++back) {
    const auto byte = static_cast<unsigned char>(text[cut]);
    if ((byte & 0xC0) != 0x80) return cut;
    --cut;
  }
  const auto byte = static_cast<unsigned char>(text[cut]);
  return cut > 0 && (byte & 0xC0) != 0x80 ? cut : max_line_;
}

}  // namespace workerd
