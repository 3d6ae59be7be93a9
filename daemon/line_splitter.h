// Cuts a byte stream into log records: one per line, without its newline.
// A line that has not ended yet is held until its newline comes or Flush()
// is called (end of the stream, or its process exited). A line longer than
// the limit is cut into records of at most `max_line` bytes, each marked as
// continued in the next, and never in the middle of a UTF-8 character.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace workerd {

// Lines longer than this are cut (README, "Output").
inline constexpr std::size_t kMaxLogLineBytes = 16384;

struct LinePiece {
  std::string_view text;
  // False when the line goes on in the next record (it was cut).
  bool ends_line = true;
};

class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line = kMaxLogLineBytes)
      : max_line_(max_line) {}

  // Calls emit(LinePiece) for every record `data` completes. The pieces'
  // text is valid only during the call.
  template <typename Emit>
  void Feed(std::string_view data, Emit&& emit);

  // Emits the held part of an unfinished line, if any, as a record that
  // ends there.
  template <typename Emit>
  void Flush(Emit&& emit);

  // Bytes of an unfinished line being held.
  std::size_t held() const { return held_.size(); }

 private:
  // Where to cut `text` (longer than max_line_) so the first part has at
  // most max_line_ bytes and no character is split.
  std::size_t CutPoint(std::string_view text) const;

  std::size_t max_line_;
  std::string held_;
};

template <typename Emit>
void LineSplitter::Feed(std::string_view data, Emit&& emit) {
  while (!data.empty()) {
    const std::size_t newline = data.find('\n');
    if (!held_.empty()) {
      // Complete the held line first; the two parts must be contiguous.
      const std::size_t take =
          newline == std::string_view::npos ? data.size() : newline;
      held_.append(data.substr(0, take));
      data.remove_prefix(newline == std::string_view::npos ? take
                                                           : take + 1);
      std::string_view line = held_;
      while (line.size() > max_line_) {
        const std::size_t cut = CutPoint(line);
        emit(LinePiece{line.substr(0, cut), false});
        line.remove_prefix(cut);
      }
      if (newline != std::string_view::npos) {
        emit(LinePiece{line, true});
        held_.clear();
      } else {
        held_.erase(0, held_.size() - line.size());
      }
      continue;
    }
    if (newline == std::string_view::npos) {
      std::string_view rest = data;
      while (rest.size() > max_line_) {
        const std::size_t cut = CutPoint(rest);
        emit(LinePiece{rest.substr(0, cut), false});
        rest.remove_prefix(cut);
      }
      held_.assign(rest);
      return;
    }
    std::string_view line = data.substr(0, newline);
    data.remove_prefix(newline + 1);
    while (line.size() > max_line_) {
      const std::size_t cut = CutPoint(line);
      emit(LinePiece{line.substr(0, cut), false});
      line.remove_prefix(cut);
    }
    emit(LinePiece{line, true});
  }
}

template <typename Emit>
void LineSplitter::Flush(Emit&& emit) {
  if (held_.empty()) return;
  emit(LinePiece{held_, true});
  held_.clear();
}

}  // namespace workerd
