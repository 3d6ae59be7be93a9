#include "daemon/line_splitter.h"

namespace workerd {

std::size_t LineSplitter::CutPoint(std::string_view text) const {
  // Back up over continuation bytes (10xxxxxx) to the start of the
  // character that straddles the limit. A UTF-8 character has at most
  // three of them; text that is not UTF-8 is cut at the limit.
  std::size_t start = max_line_;
  for (std::size_t back = 0; back < 3 && start > 0; ++back) {
    const auto byte = static_cast<unsigned char>(text[start]);
    if ((byte & 0xC0) != 0x80) break;
    --start;
  }
  if (start == max_line_ || start == 0) return max_line_;
  // Only a lead byte whose character runs past the limit starts one that
  // straddles it; anything else there is not UTF-8.
  const auto lead = static_cast<unsigned char>(text[start]);
  const std::size_t length = lead >= 0xF8   ? 1
                             : lead >= 0xF0 ? 4
                             : lead >= 0xE0 ? 3
                             : lead >= 0xC0 ? 2
                                            : 1;
  return start + length > max_line_ ? start : max_line_;
}

}  // namespace workerd
