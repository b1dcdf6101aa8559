#include "launch/flight_report.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "json/json_fields.h"
#include "trellis/error.h"

namespace trellis {

namespace {

using json::Value;

// ---- reading ----------------------------------------------------------------------------------

// Reads member `key` of `object` with `read`; a missing or mistyped member is reported as
// "<path>.<key>: <what is wrong>" so the message points into the file.
template <class Read>
auto field(const Value& object, const std::string& path, const char* key, Read read) {
  const std::string here = path.empty() ? std::string(key) : path + "." + key;
  try {
    return read(json::at(object, key));
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(here + ": " + e.what());
  }
}

std::int64_t int_field(const Value& o, const std::string& path, const char* key) {
  return field(o, path, key, [](const Value& v) { return json::to_int(v); });
}

// The largest world a record may claim: trellis-run's and the config's limit.
constexpr int kMaxWorldSize = 1 << 20;

// An integer that must fit an int and be at least `least` (ranks, sizes, tags).
int small_int_field(const Value& o, const std::string& path, const char* key, int least) {
  return field(o, path, key, [least](const Value& v) {
    const std::int64_t i = json::to_int(v);
    if (i < least || i > std::numeric_limits<int>::max()) {
      throw std::runtime_error(std::to_string(i) + " is out of range (at least " +
                               std::to_string(least) + ")");
    }
    return static_cast<int>(i);
  });
}

double number_field(const Value& o, const std::string& path, const char* key) {
  return field(o, path, key, [](const Value& v) { return json::to_number(v); });
}

std::string string_field(const Value& o, const std::string& path, const char* key) {
  return field(o, path, key, [](const Value& v) { return json::to_string(v); });
}

FlightOpState state_from(const std::string& word) {
  if (word == "enqueued") return FlightOpState::enqueued;
  if (word == "started") return FlightOpState::started;
  if (word == "completed") return FlightOpState::completed;
  if (word == "failed") return FlightOpState::failed;
  throw std::runtime_error(Value(word).dump() +
                           " is not one of enqueued, started, completed, failed");
}

// The world ranks a group's name lists: "world" is every rank, "data group [1, 3]" ranks 1 and 3.
// Empty when the name says neither.
std::vector<int> members_from_name(const std::string& name, int world_size) {
  std::vector<int> members;
  if (name == "world") {
    for (int r = 0; r < world_size; ++r) members.push_back(r);
    return members;
  }
  const std::size_t open = name.rfind('[');
  const std::size_t close = name.rfind(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return {};
  std::istringstream list(name.substr(open + 1, close - open - 1));
  std::string item;
  while (std::getline(list, item, ',')) {
    try {
      std::size_t used = 0;
      const int rank = std::stoi(item, &used);
      if (item.find_first_not_of(' ', used) != std::string::npos) return {};
      members.push_back(rank);
    } catch (const std::exception&) {
      return {};
    }
  }
  return members;
}

FlightOp op_from(const Value& v, const std::string& path) {
  FlightOp op;
  op.seq = int_field(v, path, "seq");
  op.op = string_field(v, path, "op");
  op.dtype = string_field(v, path, "dtype");
  op.bytes = int_field(v, path, "bytes");
  if (op.bytes < 0) throw std::runtime_error(path + ".bytes: negative");
  op.peer = small_int_field(v, path, "peer", -1);
  op.tag = small_int_field(v, path, "tag", -1);
  op.state = state_from(string_field(v, path, "state"));
  op.where = string_field(v, path, "where");
  op.enqueued_us = number_field(v, path, "enqueued_us");
  if (const Value* at = json::find(v, "completed_us"); at != nullptr && !at->is_null()) {
    op.completed_us = number_field(v, path, "completed_us");
  }
  return op;
}

FlightGroup group_from(const Value& v, const std::string& path, int world_size) {
  FlightGroup g;
  g.name = string_field(v, path, "name");
  g.backend = string_field(v, path, "backend");
  g.size = small_int_field(v, path, "size", 1);
  g.rank = small_int_field(v, path, "rank", 0);
  if (g.rank >= g.size) {
    throw std::runtime_error(path + ".rank: " + std::to_string(g.rank) + " is not below size " +
                             std::to_string(g.size));
  }
  if (json::find(v, "members") != nullptr) {
    const auto& items = field(v, path, "members", [](const Value& m) { return json::items(m); });
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string at = path + ".members[" + std::to_string(i) + "]";
      int rank = 0;
      try {
        const std::int64_t r = json::to_int(items[i]);
        if (r < 0 || r >= world_size) {
          throw std::runtime_error(std::to_string(r) + " is not a rank of a world of " +
                                   std::to_string(world_size));
        }
        rank = static_cast<int>(r);
      } catch (const std::runtime_error& e) {
        throw std::runtime_error(at + ": " + e.what());
      }
      g.members.push_back(rank);
    }
  }
  if (g.members.empty()) g.members = members_from_name(g.name, world_size);
  if (!g.members.empty() && g.members.size() != static_cast<std::size_t>(g.size)) {
    // A name whose list does not fit the size says nothing reliable; one from the file is wrong.
    if (json::find(v, "members") != nullptr && !json::items(json::at(v, "members")).empty()) {
      throw std::runtime_error(path + ".members: " + std::to_string(g.members.size()) +
                               " ranks for a group of size " + std::to_string(g.size));
    }
    g.members.clear();
  }
  g.next_seq = int_field(v, path, "next_seq");
  if (g.next_seq < 0) throw std::runtime_error(path + ".next_seq: negative");
  const auto& ops = field(v, path, "ops", [](const Value& o) { return json::items(o); });
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const std::string at = path + ".ops[" + std::to_string(i) + "]";
    FlightOp op = op_from(ops[i], at);
    // The analysis finds op #k of each rank by position: the ring must be consecutive.
    if (!g.ops.empty() && op.seq != g.ops.back().seq + 1) {
      throw std::runtime_error(at + ".seq: " + std::to_string(op.seq) + " follows " +
                               std::to_string(g.ops.back().seq) + " (must increase by 1)");
    }
    g.ops.push_back(std::move(op));
  }
  if (!g.ops.empty() && g.ops.back().seq != g.next_seq - 1) {
    throw std::runtime_error(path + ": the last op is #" + std::to_string(g.ops.back().seq) +
                             " but next_seq is " + std::to_string(g.next_seq));
  }
  return g;
}

FlightRankRecord record_from(const Value& doc) {
  if (!doc.is_object()) {
    throw std::runtime_error(std::string("expected an object, got ") + json::type_name(doc));
  }
  FlightRankRecord r;
  r.world_size = small_int_field(doc, "", "world_size", 1);
  // The report lists ranks one by one: a world no launcher starts is not a record of ours.
  if (r.world_size > kMaxWorldSize) {
    throw std::runtime_error("world_size: " + std::to_string(r.world_size) + " is above " +
                             std::to_string(kMaxWorldSize) + " ranks");
  }
  r.rank = small_int_field(doc, "", "rank", 0);
  if (r.rank >= r.world_size) {
    throw std::runtime_error("rank: " + std::to_string(r.rank) + " is not below world_size " +
                             std::to_string(r.world_size));
  }
  r.pid = int_field(doc, "", "pid");
  r.host = string_field(doc, "", "host");
  r.reason = string_field(doc, "", "reason");
  r.written_us = number_field(doc, "", "written_us");
  // Written by recorders since the wait was recorded; optional so that older records still read.
  if (const Value* last = json::find(doc, "last_activity_us"); last && !last->is_null()) {
    r.last_activity_us = number_field(doc, "", "last_activity_us");
  }
  if (const Value* waiting = json::find(doc, "waiting"); waiting && !waiting->is_null()) {
    FlightRankRecord::Waiting w;
    w.group = string_field(*waiting, "waiting", "group");
    w.seq = int_field(*waiting, "waiting", "seq");
    w.since_us = number_field(*waiting, "waiting", "since_us");
    r.waiting = std::move(w);
  }
  if (const Value* continued = json::find(doc, "continued"); continued && !continued->is_null()) {
    FlightRankRecord::Continued c;
    c.at_us = number_field(*continued, "continued", "at_us");
    c.quiet_since_us = number_field(*continued, "continued", "quiet_since_us");
    r.continued = c;
  }
  const auto& groups = field(doc, "", "groups", [](const Value& g) { return json::items(g); });
  for (std::size_t i = 0; i < groups.size(); ++i) {
    r.groups.push_back(group_from(groups[i], "groups[" + std::to_string(i) + "]", r.world_size));
  }
  return r;
}

// The R of "rank-R.json", or -1 for any other name.
long rank_of_file_name(const std::string& name) {
  const std::string prefix = "rank-", suffix = ".json";
  if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return -1;
  }
  const std::string digits =
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stol(digits);
}

// ---- text -------------------------------------------------------------------------------------

std::string human_bytes(std::int64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, value == std::floor(value) ? "%.0f %s" : "%.1f %s", value,
                kUnits[unit]);
  return text;
}

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, seconds < 1 ? "%.2f" : "%.1f", seconds);
  return text;
}

// "rank 2", "ranks 0, 1, 3", "ranks 0-5, 7": runs of three or more as ranges.
std::string rank_list(std::vector<int> ranks) {
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  std::string text = ranks.size() == 1 ? "rank " : "ranks ";
  for (std::size_t i = 0; i < ranks.size();) {
    std::size_t j = i;
    while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1) ++j;
    if (i > 0) text += ", ";
    if (j >= i + 2) {
      text += std::to_string(ranks[i]) + "-" + std::to_string(ranks[j]);
    } else {
      text += std::to_string(ranks[i]);
      if (j == i + 1) text += ", " + std::to_string(ranks[j]);
    }
    i = j + 1;
  }
  return text;
}

const char* state_word(FlightOpState state) {
  switch (state) {
    case FlightOpState::enqueued:
      return "enqueued";
    case FlightOpState::started:
      return "started";
    case FlightOpState::completed:
      return "completed";
    case FlightOpState::failed:
      return "failed";
  }
  return "?";
}

bool is_point_to_point(const FlightOp& op) {
  return op.op == "send" || op.op == "recv";
}
bool done(const FlightOp& op) {
  return op.state == FlightOpState::completed;
}

// "rank 3" for group rank `group_rank`, through the members; "group rank 1" when unknown.
std::string peer_text(const std::vector<int>& members, int group_rank) {
  if (group_rank >= 0 && static_cast<std::size_t>(group_rank) < members.size() &&
      members[group_rank] >= 0) {
    return "rank " + std::to_string(members[group_rank]);
  }
  return "group rank " + std::to_string(group_rank);
}

// "all_reduce f32 16 KiB", "send f32 4 KiB to rank 3 tag 7", "broadcast f32 1 MiB root rank 0".
std::string op_text(const FlightOp& op, const std::vector<int>& members) {
  std::string text = op.op + " " + op.dtype + " " + human_bytes(op.bytes);
  if (op.peer >= 0) {
    const char* role = op.op == "send" ? " to " : op.op == "recv" ? " from " : " root ";
    text += role + peer_text(members, op.peer);
  }
  if (op.tag >= 0) text += " tag " + std::to_string(op.tag);
  return text;
}

std::string where_text(const FlightOp& op) {
  return op.where.empty() ? "outside any marked code path" : "at \"" + op.where + "\"";
}

// The part of an op's code path every member of a group shares: the step and the trainer's phase
// ("step 3, loss all-reduce"), without the pipeline action, which differs between the members of
// groups that span stages (the embedding group's first and last stage).
std::string shared_where(const FlightOp& op) {
  const std::size_t action = op.where.find(", pipeline action");
  if (action != std::string::npos) return op.where.substr(0, action);
  if (op.where.starts_with("pipeline action")) return "";
  return op.where;
}

// Whether op #k of two ranks is the same collective, issued at the same point of the step (the
// same shape from another place is a collective one rank left out: the next one, matched with
// it). all_to_all_v's bytes differ by rank.
bool same_collective(const FlightOp& a, const FlightOp& b) {
  if (a.op != b.op || a.dtype != b.dtype || a.peer != b.peer) return false;
  if (shared_where(a) != shared_where(b)) return false;
  return a.op == "all_to_all_v" || a.bytes == b.bytes;
}

// Lines "ranks 0, 1, 3: <text>, for 2.9-3.0 s", one per distinct text: many ranks doing the same
// thing take one line, so a report of a large world stays short.
class RankLines {
 public:
  void add(int rank, const std::string& text, std::optional<double> seconds = std::nullopt) {
    auto it = std::find_if(lines_.begin(), lines_.end(), [&](const Line& l) {
      return l.text == text && l.timed == seconds.has_value();
    });
    if (it == lines_.end()) {
      lines_.push_back({text, {}, seconds.value_or(0), seconds.value_or(0), seconds.has_value()});
      it = lines_.end() - 1;
    }
    it->ranks.push_back(rank);
    if (seconds) {
      it->lo = std::min(it->lo, *seconds);
      it->hi = std::max(it->hi, *seconds);
    }
  }

  void write(std::vector<std::string>& out) const {
    for (const Line& l : lines_) {
      std::string line = rank_list(l.ranks) + ": " + l.text;
      if (l.timed) {
        line += ", for " + seconds_text(l.lo);
        if (seconds_text(l.hi) != seconds_text(l.lo)) line += "-" + seconds_text(l.hi);
        line += " s";
      }
      out.push_back(std::move(line));
    }
  }

  std::vector<int> ranks() const {
    std::vector<int> all;
    for (const Line& l : lines_) all.insert(all.end(), l.ranks.begin(), l.ranks.end());
    return all;
  }

  std::size_t size() const { return lines_.size(); }

 private:
  struct Line {
    std::string text;
    std::vector<int> ranks;
    double lo, hi;
    bool timed;
  };
  std::vector<Line> lines_;
};

// ---- analysis ---------------------------------------------------------------------------------

// One member of a group as the analysis sees it.
struct Member {
  int world = -1;                            // -1: the group's records do not say
  const FlightRankRecord* record = nullptr;  // null: the rank wrote no record
  const FlightGroup* group = nullptr;        // null: the rank wrote no record

  // The oldest op still in the ring (next_seq when the ring is empty).
  std::int64_t first() const { return group->ops.empty() ? group->next_seq : group->ops[0].seq; }
  const FlightOp* op(std::int64_t k) const {
    if (k < first() || k >= group->next_seq) return nullptr;
    return &group->ops[static_cast<std::size_t>(k - first())];
  }
  const FlightOp* last() const { return group->ops.empty() ? nullptr : &group->ops.back(); }
  double waited_s(const FlightOp& op) const { return (record->written_us - op.enqueued_us) / 1e6; }
};

// Something wrong with a group: members that disagree, or that agree and still wait.
struct Finding {
  bool disagreement = true;  // false: the members agree and wait on something else
  double since_us = 0;       // when the earliest rank involved entered; orders the findings
  std::string summary;       // one line, after the group's name
  std::vector<std::string> details;
};

struct GroupAnalysis {
  std::string name;
  std::vector<Finding> findings;
  std::string note;  // when fine but for members without a record
};

// What `record`'s rank is doing now outside group `except`: its latest operation not completed.
std::string rank_now(const FlightRankRecord& record, const std::string& except,
                     std::optional<double>* seconds) {
  const FlightGroup* in = nullptr;
  const FlightOp* latest = nullptr;
  for (const FlightGroup& g : record.groups) {
    if (g.name == except) continue;
    for (const FlightOp& op : g.ops) {
      if (!done(op) && (latest == nullptr || op.enqueued_us > latest->enqueued_us)) {
        in = &g;
        latest = &op;
      }
    }
  }
  if (latest == nullptr) {
    return "now in no other group's operation (computing, or stuck outside communication)";
  }
  *seconds = (record.written_us - latest->enqueued_us) / 1e6;
  return "now in " + in->name + " #" + std::to_string(latest->seq) + " " +
         op_text(*latest, in->members) + " " + where_text(*latest) + ", " +
         state_word(latest->state);
}

// The lines about members that did not enter op `k`: their last operation here, and what they do.
// `prefix` says what they did not do.
void describe_laggards(const std::vector<const Member*>& laggards, const std::string& group,
                       const std::vector<int>& members, std::vector<std::string>& out,
                       const std::string& prefix = "never entered it; ") {
  RankLines lines;
  for (const Member* m : laggards) {
    const FlightOp* last = m->last();
    std::string text = prefix;
    if (last == nullptr) {
      text += m->group->next_seq == 0 ? "no operation on this group yet"
                                      : "its record keeps no operation of this group";
    } else {
      text += "last #" + std::to_string(last->seq) + " " + op_text(*last, members) + " " +
              where_text(*last) + ", " + state_word(last->state);
    }
    lines.add(m->world, text);
  }
  RankLines now;
  for (const Member* m : laggards) {
    std::optional<double> seconds;
    const std::string text = rank_now(*m->record, group, &seconds);
    now.add(m->world, text, seconds);
  }
  lines.write(out);
  now.write(out);
}

// The line for a member that entered op `k`: where, its state, and how long it has waited.
void describe_entered(const Member& m, std::int64_t k, const std::vector<int>& members,
                      RankLines& lines) {
  const FlightOp* op = m.op(k);
  if (op == nullptr && m.last() == nullptr) {
    lines.add(m.world, "entered it (its record keeps no operation of this group)");
    return;
  }
  if (op == nullptr) {
    const FlightOp* last = m.last();
    lines.add(m.world, "entered it (gone from its record); last #" + std::to_string(last->seq) +
                           " " + op_text(*last, members) + ", " + state_word(last->state));
    return;
  }
  std::string text = "entered " + where_text(*op) + ", " + state_word(op->state);
  if (m.group->next_seq > k + 1) {
    const FlightOp& last = *m.last();
    text += "; now at #" + std::to_string(last.seq) + " " + op_text(last, members) + ", " +
            state_word(last.state);
  }
  if (done(*op)) {
    lines.add(m.world, text);
  } else {
    lines.add(m.world, text, m.waited_s(*op));
  }
}

// When a member entered op `k`, or its oldest recorded op when #k has left its ring.
double entered_us(const Member& m, std::int64_t k) {
  if (const FlightOp* op = m.op(k)) return op->enqueued_us;
  return m.group->ops.empty() ? m.record->written_us : m.group->ops[0].enqueued_us;
}

// "rank 2 wrote no record" for members without one, or "" when every member has one.
std::string absent_text(const std::vector<Member>& all) {
  std::vector<int> no_record;
  std::vector<std::string> unknown;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Member& m = all[i];
    if (m.world < 0) {
      unknown.push_back("group rank " + std::to_string(i));
    } else if (m.record == nullptr) {
      no_record.push_back(m.world);
    }
  }
  std::vector<std::string> parts;
  if (!no_record.empty()) parts.push_back(rank_list(no_record) + " wrote no record");
  for (const std::string& u : unknown) parts.push_back(u + " is unknown (no record names it)");
  std::string text;
  for (const std::string& p : parts) text += (text.empty() ? "" : "; ") + p;
  return text;
}

// A rank continued after a stop (SIGCONT) counts as quiet for this long or more: a stop for a
// debugger's breakpoint or a SIGSTOP, not a scheduler's hiccup.
constexpr double kQuietSeconds = 1.0;

// How long `r` was stopped before it was continued (from its last activity), or 0.
double stopped_seconds(const FlightRankRecord& r) {
  if (!r.continued) return 0;
  return (r.continued->at_us - r.continued->quiet_since_us) / 1e6;
}

// A group whose ops are all collectives: op #k is the same operation on every member, so members
// are compared number by number from the oldest op every member still keeps.
void analyze_collectives(const std::string& name, const std::vector<int>& members,
                         const std::vector<const Member*>& present, const std::string& absent,
                         GroupAnalysis& out) {
  std::int64_t start = 0, min_next = std::numeric_limits<std::int64_t>::max(), max_next = 0;
  for (const Member* m : present) {
    start = std::max(start, m->first());
    min_next = std::min(min_next, m->group->next_seq);
    max_next = std::max(max_next, m->group->next_seq);
  }
  // Every member entered the ops below min_next: compare them.
  for (std::int64_t k = start; k < min_next; ++k) {
    const FlightOp& reference = *present[0]->op(k);
    const bool agree = std::all_of(present.begin(), present.end(), [&](const Member* m) {
      return same_collective(*m->op(k), reference);
    });
    if (agree) continue;
    // The same collective from different points of the step: the code paths tell them apart.
    const bool same_shape = std::all_of(present.begin(), present.end(), [&](const Member* m) {
      const FlightOp& op = *m->op(k);
      return op.op == reference.op && op.dtype == reference.dtype && op.peer == reference.peer &&
             (op.op == "all_to_all_v" || op.bytes == reference.bytes);
    });
    Finding f;
    f.since_us = std::numeric_limits<double>::max();
    RankLines ops, details;
    for (const Member* m : present) {
      const FlightOp& op = *m->op(k);
      f.since_us = std::min(f.since_us, op.enqueued_us);
      ops.add(m->world, op_text(op, members) +
                            (same_shape ? " from \"" + shared_where(op) + "\"" : std::string()));
      const std::string text =
          op_text(op, members) + " " + where_text(op) + ", " + state_word(op.state);
      if (done(op)) {
        details.add(m->world, text);
      } else {
        details.add(m->world, text, m->waited_s(op));
      }
    }
    std::vector<std::string> parts;
    ops.write(parts);
    f.summary = "#" + std::to_string(k) + " mismatch: ";
    for (std::size_t i = 0; i < parts.size(); ++i) f.summary += (i ? "; " : "") + parts[i];
    details.write(f.details);
    if (!absent.empty()) f.details.push_back(absent);
    out.findings.push_back(std::move(f));
    return;
  }
  if (min_next < max_next) {
    // Some entered op #min_next and others never did: the first disagreement.
    const std::int64_t k = min_next;
    std::vector<const Member*> laggards, entered;
    for (const Member* m : present) (m->group->next_seq <= k ? laggards : entered).push_back(m);
    Finding f;
    f.since_us = std::numeric_limits<double>::max();
    std::string what;  // op #k as the ranks that entered it still record it
    RankLines entered_lines;
    for (const Member* m : entered) {
      f.since_us = std::min(f.since_us, entered_us(*m, k));
      if (const FlightOp* op = m->op(k); op != nullptr && what.empty()) {
        what = " " + op_text(*op, members);
      }
      describe_entered(*m, k, members, entered_lines);
    }
    std::vector<int> laggard_ranks;
    for (const Member* m : laggards) laggard_ranks.push_back(m->world);
    f.summary = "#" + std::to_string(k) + what + ": " + rank_list(laggard_ranks) +
                " never entered it; " + rank_list(entered_lines.ranks()) + " did";
    describe_laggards(laggards, name, members, f.details);
    entered_lines.write(f.details);
    if (!absent.empty()) f.details.push_back(absent);
    out.findings.push_back(std::move(f));
    return;
  }
  // Every member entered the same ops: the first one some member has not completed, if any.
  for (std::int64_t k = start; k < max_next; ++k) {
    const bool waiting = std::any_of(present.begin(), present.end(),
                                     [&](const Member* m) { return !done(*m->op(k)); });
    if (!waiting) continue;
    Finding f;
    f.since_us = std::numeric_limits<double>::max();
    RankLines lines;
    std::vector<int> waiting_ranks;
    for (const Member* m : present) {
      describe_entered(*m, k, members, lines);
      if (!done(*m->op(k))) {
        waiting_ranks.push_back(m->world);
        f.since_us = std::min(f.since_us, m->op(k)->enqueued_us);
      }
    }
    double longest = 0;
    for (const Member* m : present) {
      if (!done(*m->op(k))) longest = std::max(longest, m->waited_s(*m->op(k)));
    }
    const std::string head = "#" + std::to_string(k) + " " + op_text(*present[0]->op(k), members);
    // A member whose op is unfinished but who is not inside any wait has stopped taking part:
    // stopped (SIGSTOP, a debugger), or busy far outside communication. Its record, written
    // when it was signalled, shows how long it had been quiet.
    std::vector<int> quiet_ranks;
    double quiet_for = 0;
    for (const Member* m : present) {
      const FlightRankRecord& r = *m->record;
      if (done(*m->op(k))) continue;
      if (const double stopped = stopped_seconds(r); stopped >= kQuietSeconds) {
        quiet_ranks.push_back(m->world);
        quiet_for = std::max(quiet_for, stopped);
      } else if (!r.waiting && r.last_activity_us > 0) {
        quiet_ranks.push_back(m->world);
        quiet_for = std::max(quiet_for, (r.written_us - r.last_activity_us) / 1e6);
      }
    }
    if (!quiet_ranks.empty() && quiet_ranks.size() < present.size()) {
      std::vector<int> others;
      for (int rank : waiting_ranks) {
        if (std::find(quiet_ranks.begin(), quiet_ranks.end(), rank) == quiet_ranks.end()) {
          others.push_back(rank);
        }
      }
      const bool stopped = std::all_of(quiet_ranks.begin(), quiet_ranks.end(), [&](int rank) {
        for (const Member* m : present) {
          if (m->world == rank) return stopped_seconds(*m->record) >= kQuietSeconds;
        }
        return false;
      });
      f.summary = head + ": " + rank_list(quiet_ranks) +
                  (stopped ? " stopped (SIGSTOP or a debugger) for " + seconds_text(quiet_for) +
                                 " s, not taking part"
                           : " not waiting for it, quiet for " + seconds_text(quiet_for) +
                                 " s (stopped, or busy outside communication)") +
                  "; " + rank_list(others) + " waiting " + seconds_text(longest) + " s";
      f.details.push_back(rank_list(quiet_ranks) +
                          ": in no wait when the record was written; last communication " +
                          seconds_text(quiet_for) + " s before it");
    } else if (!absent.empty()) {
      f.summary = head + ": " + absent + "; " + rank_list(waiting_ranks) + " waiting " +
                  seconds_text(longest) + " s";
    } else {
      f.disagreement = false;
      f.summary = head + ": all entered; " + rank_list(waiting_ranks) + " still waiting (" +
                  seconds_text(longest) + " s) - the group is waiting on something else";
    }
    lines.write(f.details);
    out.findings.push_back(std::move(f));
    return;
  }
  if (!absent.empty()) {
    std::vector<int> ranks;
    for (const Member* m : present) ranks.push_back(m->world);
    out.note = rank_list(ranks) + (ranks.size() == 1 ? " completed" : " agree and completed") +
               " every op up to #" + std::to_string(max_next - 1) + "; " + absent;
  }
}

// A group with sends and receives: their numbers differ by rank, so collectives are compared by
// what each member waits in now, not by number.
void analyze_mixed_collectives(const std::string& name, const std::vector<int>& members,
                               const std::vector<const Member*>& present, const std::string& absent,
                               GroupAnalysis& out) {
  std::vector<const Member*> waiting, others;
  for (const Member* m : present) {
    const FlightOp* last = m->last();
    const bool in_collective = last != nullptr && !done(*last) && !is_point_to_point(*last);
    (in_collective ? waiting : others).push_back(m);
  }
  if (waiting.empty()) return;
  Finding f;
  f.since_us = std::numeric_limits<double>::max();
  RankLines ops, lines;
  double longest = 0;
  for (const Member* m : waiting) {
    const FlightOp& op = *m->last();
    f.since_us = std::min(f.since_us, op.enqueued_us);
    longest = std::max(longest, m->waited_s(op));
    ops.add(m->world, op_text(op, members));
    lines.add(m->world,
              "in #" + std::to_string(op.seq) + " " + op_text(op, members) + " " + where_text(op) +
                  ", " + state_word(op.state),
              m->waited_s(op));
  }
  std::vector<std::string> parts;
  ops.write(parts);
  std::string waits;
  for (std::size_t i = 0; i < parts.size(); ++i) waits += (i ? "; " : "") + parts[i];
  if (!others.empty()) {
    std::vector<int> other_ranks;
    for (const Member* m : others) other_ranks.push_back(m->world);
    f.summary = "waiting in " + waits + " (" + seconds_text(longest) + " s); " +
                rank_list(other_ranks) + " never entered it";
    describe_laggards(others, name, members, f.details);
  } else if (ops.size() > 1) {
    f.summary = "mismatch: " + waits;
  } else if (!absent.empty()) {
    f.summary = waits + ": " + absent + "; " + rank_list(ops.ranks()) + " waiting " +
                seconds_text(longest) + " s";
  } else {
    f.disagreement = false;
    f.summary = waits + ": all entered, still waiting (" + seconds_text(longest) +
                " s) - the group is waiting on something else";
  }
  lines.write(f.details);
  if (!absent.empty() && f.summary.find(absent) == std::string::npos) f.details.push_back(absent);
  out.findings.push_back(std::move(f));
}

// Each send or recv not completed, matched with what its peer does: the matching recv or send
// (same tag, from this rank) in flight, another size, or nothing.
void analyze_point_to_point(const std::string& name, const std::vector<int>& members,
                            const std::vector<Member>& all, GroupAnalysis& out) {
  std::set<const FlightOp*> matched;  // the peer ops already reported with theirs
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Member& m = all[i];
    if (m.group == nullptr) continue;
    for (const FlightOp& op : m.group->ops) {
      if (!is_point_to_point(op) || done(op) || matched.count(&op) != 0) continue;
      Finding f;
      f.since_us = op.enqueued_us;
      const std::string head = "rank " + std::to_string(m.world) + " waits in #" +
                               std::to_string(op.seq) + " " + op_text(op, members) + " (" +
                               seconds_text(m.waited_s(op)) + " s)";
      f.details.push_back("rank " + std::to_string(m.world) + ": " + where_text(op) + ", " +
                          state_word(op.state));
      const Member* peer = op.peer >= 0 && static_cast<std::size_t>(op.peer) < all.size()
                               ? &all[static_cast<std::size_t>(op.peer)]
                               : nullptr;
      const std::string peer_name = peer_text(members, op.peer);
      if (peer == nullptr || peer->group == nullptr) {
        const std::string why = peer == nullptr   ? " is not a member of the group"
                                : peer->world < 0 ? " is unknown"
                                                  : " wrote no record";
        f.summary = head + ": " + peer_name + why;
        out.findings.push_back(std::move(f));
        continue;
      }
      const std::string counterpart = op.op == "send" ? "recv" : "send";
      const FlightOp* match = nullptr;
      for (const FlightOp& p : peer->group->ops) {
        if (p.op == counterpart && p.peer == m.group->rank && p.tag == op.tag && !done(p)) {
          match = &p;
          break;
        }
      }
      if (match == nullptr) {
        f.summary = head + ": " + peer_name + " has no matching " + counterpart + " in flight";
        describe_laggards({peer}, name, members, f.details, "");
      } else {
        matched.insert(match);
        const std::string theirs =
            peer_name + " #" + std::to_string(match->seq) + " " + op_text(*match, members);
        if (match->bytes != op.bytes || match->dtype != op.dtype) {
          f.summary = head + ": mismatch with " + theirs;
        } else {
          f.disagreement = false;
          f.summary = head + ": " + peer_name + "'s " + counterpart +
                      " is in flight too - the transfer itself is stuck";
        }
        f.details.push_back(peer_name + ": " + where_text(*match) + ", " +
                            state_word(match->state) + ", for " +
                            seconds_text(peer->waited_s(*match)) + " s");
      }
      out.findings.push_back(std::move(f));
    }
  }
}

GroupAnalysis analyze_group(const std::string& name,
                            const std::map<int, const FlightRankRecord*>& by_rank) {
  GroupAnalysis out;
  out.name = name;
  // The members in group order: from a record that lists them, else from each record's place.
  std::vector<int> members;
  int size = 0;
  for (const auto& [rank, record] : by_rank) {
    for (const FlightGroup& g : record->groups) {
      if (g.name != name) continue;
      size = std::max(size, g.size);
      if (members.empty() && !g.members.empty()) members = g.members;
    }
  }
  if (members.empty()) {
    members.assign(static_cast<std::size_t>(size), -1);
    for (const auto& [rank, record] : by_rank) {
      for (const FlightGroup& g : record->groups) {
        if (g.name == name) members[static_cast<std::size_t>(g.rank)] = rank;
      }
    }
  }
  std::vector<Member> all(members.size());
  // The recorder leaves out a group on which its rank issued nothing yet: such a member is here
  // as one at op #0 that it never entered.
  std::vector<FlightGroup> unused(members.size());
  std::vector<const Member*> present;
  for (std::size_t i = 0; i < members.size(); ++i) {
    Member& m = all[i];
    m.world = members[i];
    if (const auto it = by_rank.find(m.world); it != by_rank.end()) {
      m.record = it->second;
      for (const FlightGroup& g : m.record->groups) {
        if (g.name == name) m.group = &g;
      }
      if (m.group == nullptr) {
        unused[i].name = name;
        unused[i].rank = static_cast<int>(i);
        unused[i].size = static_cast<int>(members.size());
        unused[i].members = members;
        m.group = &unused[i];
      }
    }
    if (m.group != nullptr) present.push_back(&m);
  }
  if (present.empty()) return out;
  const std::string absent = absent_text(all);
  const bool point_to_point = std::any_of(present.begin(), present.end(), [](const Member* m) {
    return std::any_of(m->group->ops.begin(), m->group->ops.end(), is_point_to_point);
  });
  if (point_to_point) {
    analyze_point_to_point(name, members, all, out);
    analyze_mixed_collectives(name, members, present, absent, out);
  } else {
    analyze_collectives(name, members, present, absent, out);
  }
  return out;
}

}  // namespace

FlightRankRecord read_flight_record(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw InputError("cannot read flight record " + file.string() + ": " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  FlightRankRecord record = parse_flight_record(text.str(), file.string());
  record.file = file;
  return record;
}

FlightRankRecord parse_flight_record(std::string_view text, const std::string& name) {
  try {
    return record_from(json::parse(text));
  } catch (const std::runtime_error& e) {
    throw InputError("flight record " + name + ": " + e.what());
  }
}

std::vector<FlightRankRecord> read_flight_records(const std::filesystem::path& dir,
                                                  std::vector<std::string>* problems) {
  std::error_code error;
  std::vector<std::pair<long, std::filesystem::path>> files;
  for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    const long rank = rank_of_file_name(it->path().filename().string());
    if (rank >= 0) files.emplace_back(rank, it->path());
  }
  if (error) {
    throw InputError("cannot read flight record directory " + dir.string() + ": " +
                     error.message());
  }
  std::sort(files.begin(), files.end());
  std::vector<FlightRankRecord> records;
  std::set<int> ranks;
  for (const auto& [rank, file] : files) {
    try {
      FlightRankRecord record = read_flight_record(file);
      if (!ranks.insert(record.rank).second) {
        if (problems) {
          problems->push_back(file.string() + ": rank " + std::to_string(record.rank) +
                              " again; its first record is kept");
        }
        continue;
      }
      records.push_back(std::move(record));
    } catch (const InputError& e) {
      if (problems) problems->push_back(e.what());
    }
  }
  std::sort(records.begin(), records.end(),
            [](const FlightRankRecord& a, const FlightRankRecord& b) { return a.rank < b.rank; });
  return records;
}

std::string analyze_flight_records(const std::vector<FlightRankRecord>& records, int world_size,
                                   const std::vector<std::string>& problems) {
  std::vector<std::string> lines;
  std::map<int, const FlightRankRecord*> by_rank;
  std::vector<std::string> notes;
  for (const FlightRankRecord& r : records) {
    if (r.rank >= world_size) {
      notes.push_back(r.file.string() + ": rank " + std::to_string(r.rank) +
                      " is outside a world of " + std::to_string(world_size));
    } else if (!by_rank.emplace(r.rank, &r).second) {
      notes.push_back("rank " + std::to_string(r.rank) + " has two records; the first is used");
    } else if (r.world_size != world_size) {
      notes.push_back("rank " + std::to_string(r.rank) + "'s record says world size " +
                      std::to_string(r.world_size));
    }
  }

  // ---- who wrote a record, and why
  lines.push_back("flight record: " + std::to_string(by_rank.size()) + " of " +
                  std::to_string(world_size) + " ranks wrote one");
  std::vector<int> silent;
  for (int r = 0; r < world_size; ++r) {
    if (by_rank.count(r) == 0) silent.push_back(r);
  }
  if (silent.size() == 1) {
    lines.push_back("  " + rank_list(silent) +
                    " wrote no record: it was stopped, killed before it could write, or is stuck "
                    "outside Trellis's code");
  } else if (!silent.empty()) {
    lines.push_back("  " + rank_list(silent) +
                    " wrote no record: stopped, killed before they could write, or stuck outside "
                    "Trellis's code");
  }
  RankLines reasons;
  for (const auto& [rank, record] : by_rank) reasons.add(rank, record->reason);
  std::vector<std::string> reason_lines;
  reasons.write(reason_lines);
  for (const std::string& l : reason_lines) lines.push_back("  " + l);
  for (const auto& [rank, record] : by_rank) {
    if (const double stopped = stopped_seconds(*record); stopped >= kQuietSeconds) {
      lines.push_back("  rank " + std::to_string(rank) + " was stopped for " +
                      seconds_text(stopped) +
                      " s (SIGSTOP or a debugger) and continued before it wrote its record");
    }
  }
  for (const std::string& p : problems) lines.push_back("  unreadable: " + p);
  for (const std::string& n : notes) lines.push_back("  " + n);

  // ---- each group, by name, in the order the ranks list them
  std::vector<std::string> names;
  for (const auto& [rank, record] : by_rank) {
    for (const FlightGroup& g : record->groups) {
      if (std::find(names.begin(), names.end(), g.name) == names.end()) names.push_back(g.name);
    }
  }
  std::vector<GroupAnalysis> groups;
  int fine = 0;
  const Finding* first = nullptr;
  const GroupAnalysis* first_group = nullptr;
  for (const std::string& name : names) groups.push_back(analyze_group(name, by_rank));
  for (const GroupAnalysis& g : groups) {
    if (g.findings.empty() && g.note.empty()) ++fine;
    for (const Finding& f : g.findings) {
      // A disagreement beats members that agree and wait; among equals, the earliest.
      const bool better = first == nullptr || (f.disagreement && !first->disagreement) ||
                          (f.disagreement == first->disagreement && f.since_us < first->since_us);
      if (better) {
        first = &f;
        first_group = &g;
      }
    }
  }
  if (first == nullptr) {
    lines.push_back(names.empty() ? "first disagreement: none (no group in any record)"
                                  : "first disagreement: none: the ranks that wrote a record "
                                    "agree on every group");
  } else {
    lines.push_back(std::string(first->disagreement ? "first disagreement: "
                                                    : "first disagreement: none; longest wait: ") +
                    first_group->name + " " + first->summary);
  }
  for (const GroupAnalysis& g : groups) {
    for (const Finding& f : g.findings) {
      lines.push_back(g.name + ": " + f.summary);
      for (const std::string& d : f.details) lines.push_back("  " + d);
    }
    if (!g.note.empty()) lines.push_back(g.name + ": " + g.note);
  }
  if (fine > 0) {
    lines.push_back(std::to_string(fine) + (fine == 1 ? " group agrees" : " groups agree") +
                    " up to the last operation, all completed");
  }
  std::string report;
  for (const std::string& l : lines) report += l + "\n";
  return report;
}

}  // namespace trellis
