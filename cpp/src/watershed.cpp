#include "segen/watershed.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

#include "detail/common.hpp"
#include "detail/dispatch.hpp"  // SEGEN_ALWAYS_INLINE
#include "detail/scratch.hpp"
#include "segen/parallel.hpp"

namespace segen {

namespace {

struct Elem {
  std::ptrdiff_t index;   // in the padded grid
  std::ptrdiff_t source;  // the marker pixel it was flooded from
};

// One FIFO per integer level: pops the lowest level, first-in first-out, which is exactly the
// (value, age) order of a heap when every push gets a larger age than the previous one. Pushes are
// never below the current level (a neighbour costs at least what the pixel it is reached from costs),
// so the scan for the next non-empty level only moves forward.
class BucketQueue {
 public:
  explicit BucketQueue(std::size_t levels) : buckets_(levels), head_(levels, 0) {}
  void push(std::size_t level, const Elem& e) {
    buckets_[level].push_back(e);
    if (level < cur_) cur_ = level;  // only for the markers, pushed before the first pop
    ++count_;
  }
  bool empty() const { return count_ == 0; }
  std::size_t level() const { return cur_; }  // level of the last element popped
  Elem pop() {
    while (head_[cur_] == buckets_[cur_].size()) ++cur_;
    auto& b = buckets_[cur_];
    const Elem e = b[head_[cur_]++];
    if (head_[cur_] == b.size()) {
      b.clear();
      head_[cur_] = 0;
    }
    --count_;
    return e;
  }

 private:
  std::vector<std::vector<Elem>> buckets_;
  std::vector<std::size_t> head_;
  std::size_t cur_ = 0, count_ = 0;
};

struct HeapItem {
  double value;
  std::uint64_t age;
  Elem e;
};

// A plain binary min-heap on (value, age) with the textbook sift-up / sift-down (strict comparisons),
// the same procedure as scikit-image's heap: elements with equal keys (the markers, all of age 0) then
// leave in the same order as there, so float results match scikit-image even on plateaus.
class HeapQueue {
 public:
  void push(double value, std::uint64_t age, const Elem& e) {
    a_.push_back(HeapItem{value, age, e});
    std::size_t c = a_.size() - 1;
    while (c > 0) {
      const std::size_t p = (c - 1) / 2;
      if (!less(a_[c], a_[p])) break;
      std::swap(a_[c], a_[p]);
      c = p;
    }
  }
  bool empty() const { return a_.empty(); }
  double level() const { return last_; }  // value of the last element popped
  Elem pop() {
    const Elem top = a_[0].e;
    last_ = a_[0].value;
    a_[0] = a_.back();
    a_.pop_back();
    const std::size_t n = a_.size();
    std::size_t i = 0;
    for (;;) {
      const std::size_t l = 2 * i + 1, r = l + 1;
      if (l >= n) break;
      std::size_t m = i;
      if (less(a_[l], a_[i])) m = l;
      if (r < n && less(a_[r], a_[m])) m = r;
      if (m == i) break;
      std::swap(a_[i], a_[m]);
      i = m;
    }
    return top;
  }

 private:
  static bool less(const HeapItem& x, const HeapItem& y) {
    return x.value != y.value ? x.value < y.value : x.age < y.age;
  }
  std::vector<HeapItem> a_;
  double last_ = 0.0;
};

// The padded state of one flood: labels and mask with a one-pixel frame of "outside".
struct Grid {
  std::ptrdiff_t h, w, pw;  // pw = w + 2
  std::vector<std::int32_t> out;
  std::vector<std::uint8_t> mask;
  std::ptrdiff_t nb[8];
  int nnb;
};

// A pixel is on a watershed line when an in-mask neighbour already carries a nonzero label other than
// the one arriving (`label`); it then leaves the mask for good.
inline bool on_line(Grid& g, std::ptrdiff_t index, std::int32_t label) {
  if (!g.mask[index]) return true;
  for (int i = 0; i < g.nnb; ++i) {
    const std::ptrdiff_t n = index + g.nb[i];
    if (!g.mask[n]) continue;
    const std::int32_t l = g.out[n];
    if (l && l != label) {
      g.mask[index] = 0;
      return true;
    }
  }
  return false;
}

template <bool Compact, bool Wsl, class Push, class Pop, class Empty>
void flood(Grid& g, double compactness, Push&& push, Pop&& pop, Empty&& empty) {
  std::uint32_t steps = 0;
  while (!empty()) {
    if ((++steps & 4095u) == 0) poll_interrupt();
    const Elem e = pop();
    if constexpr (Compact || Wsl) {
      if (g.out[e.index] && e.index != e.source) continue;
      // (as scikit-image, lines are only drawn without compactness)
      if (Compact || !on_line(g, e.index, g.out[e.source])) g.out[e.index] = g.out[e.source];
    }
    for (int i = 0; i < g.nnb; ++i) {
      const std::ptrdiff_t n = e.index + g.nb[i];
      if (!g.mask[n] || g.out[n]) continue;
      double extra = 0.0;
      if constexpr (Compact) {
        const double dr = double(n / g.pw - e.source / g.pw), dc = double(n % g.pw - e.source % g.pw);
        extra = compactness * std::sqrt(dr * dr + dc * dc);
      } else if constexpr (!Wsl) {
        g.out[n] = g.out[e.index];
      }
      push(n, e.source, extra);
    }
  }
}

// The plain case on an integer relief (no compactness, no lines): every pixel enters the queue once,
// labelled as it enters, so a queue entry is just the pixel index. One growing array per level, read
// front to back (the same order as BucketQueue, with half the memory traffic and no division).
template <class L>
void flood_levels(Grid& g, const L* level, std::size_t nlevels, const std::vector<std::ptrdiff_t>& seeds) {
  std::vector<std::vector<std::int32_t>> fifo(nlevels);
  std::vector<std::size_t> head(nlevels, 0);
  std::size_t cur = nlevels, count = 0;
  for (const std::ptrdiff_t p : seeds) {
    const std::size_t l = level[p];
    fifo[l].push_back(static_cast<std::int32_t>(p));
    cur = std::min(cur, l);
    ++count;
  }
  std::int32_t* out = g.out.data();
  const std::uint8_t* mask = g.mask.data();
  const int nnb = g.nnb;
  std::uint32_t steps = 0;
  while (count > 0) {
    if ((++steps & 4095u) == 0) poll_interrupt();
    while (head[cur] == fifo[cur].size()) {
      fifo[cur].clear();
      head[cur] = 0;
      ++cur;
    }
    const std::ptrdiff_t p = fifo[cur][head[cur]++];
    --count;
    const std::int32_t lab = out[p];
    for (int i = 0; i < nnb; ++i) {
      const std::ptrdiff_t n = p + g.nb[i];
      if (!mask[n] || out[n]) continue;
      out[n] = lab;
      fifo[std::max<std::size_t>(level[n], cur)].push_back(static_cast<std::int32_t>(n));
      ++count;
    }
  }
}

// Order-preserving unsigned keys of float values: a < b exactly when key(a) < key(b), and -0.0 gets the key
// of +0.0 (the two compare equal). NaN is refused before any key is made. A value's bits b, with the sign bit
// set when it is clear, and negated (two's complement) when it is set: -0.0, the sign bit alone, negates to
// itself, the key of +0.0; more negative values go lower. (Integer operations only: five instructions, where a
// compare with 0.0 and a mask took twice as many.)
inline std::uint32_t order_key(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  const std::uint32_t m = static_cast<std::uint32_t>(static_cast<std::int32_t>(b) >> 31);  // all ones if negative
  return ((b ^ m) - m) ^ (~m & 0x80000000u);
}
inline std::uint64_t order_key(double v) {
  std::uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  const std::uint64_t m = static_cast<std::uint64_t>(static_cast<std::int64_t>(b) >> 63);
  return ((b ^ m) - m) ^ (~m & (std::uint64_t(1) << 63));
}

// The index of the lowest set bit of x (x != 0).
inline int lowest_bit(std::uint64_t x) {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_ctzll(x);
#else
  int b = 0;
  while (!(x & 1)) x >>= 1, ++b;
  return b;
#endif
}

// A monotone priority queue on integer keys (a radix heap with 2^11-way digits instead of bits): every key pushed is >=
// the key of the last element popped, which the flood guarantees. An element whose key equals the current one goes to a
// FIFO; any other waits in the bucket of the highest digit where its key differs from the current key, under that
// digit's value. When the FIFO runs dry, the lowest non-empty bucket of the lowest digit holds the next keys: the
// current key becomes their minimum and they move down a digit (or into the FIFO; a bucket whose keys are all equal,
// such as a ring of one distance in a distance map, becomes the FIFO as it is, in one step: on a negated distance map a
// twelfth fewer instructions). A bucket only ever holds keys that agree with the current key above its digit, so equal
// keys always share a bucket, in push order, and move together: elements of equal key leave first-in first-out, which
// is the (value, age) order of scikit-image's heap. Each element moves at most once per digit (3 for float keys, 6 for
// double keys), in sequential passes, where a heap sifts log2(N) levels at random; and unlike one bucket per distinct
// value, nothing is sized by the number of levels.
//
// The FIFO and the buckets are lists of blocks from pools kept by the queue: a block emptied by a pop or a
// refill goes back to its pool and is reused, so after the first few levels nothing is allocated, copied or
// freed. (With a growing array per bucket, their reallocations, copies and frees took about a tenth of the
// flood of a negated distance map.) A list's first block holds 64 items, the next ones 256 each: first
// blocks of 4 or 16 items (many buckets hold one or two elements) were measured slower, as were 64 for all
// (with the count in each block's header, before it moved to the list).
// The pools hold at most the elements queued plus one partly filled block per non-empty list, and the
// blocks of 64 that lists grown past their first block left behind.
template <class K, class E>
class RadixQueue {
  static constexpr int kBits = 11;
  static constexpr int kDigits = (8 * int(sizeof(K)) + kBits - 1) / kBits;
  static constexpr std::size_t kFan = std::size_t(1) << kBits;
  static constexpr std::size_t kWords = kFan / 64;
  static_assert(kWords <= 32, "one bit of words_ per word of bits_");
  struct Item {
    K key;
    E e;
  };
  // A block of items: the header, then items()[0, capacity(cls)). How many it holds is kept by its list.
  struct Block {
    Block* next;
    std::uint32_t cls;
    Item* items() { return reinterpret_cast<Item*>(this + 1); }
    const Item* items() const { return reinterpret_cast<const Item*>(this + 1); }
  };
  static_assert(sizeof(Block) % alignof(Item) == 0, "items() right after the header");
  static constexpr std::uint32_t kClasses = 2;  // blocks of 64 and of 256 items
  static constexpr std::uint32_t capacity(std::uint32_t cls) { return 64u << (2 * cls); }
  // Blocks in order, each but the last full; elements in push order. The last block's count and capacity
  // are kept here, beside the pointers, so that a push touches the list and the item's slot, not also the
  // block's header (a third cache line per push while the block fills).
  struct List {
    Block* head = nullptr;
    Block* tail = nullptr;
    std::uint32_t tail_count = 0, tail_cap = 0;
    std::uint32_t count(const Block* b) const { return b == tail ? tail_count : capacity(b->cls); }
  };

 public:
  explicit RadixQueue(K start) : cur_(start) {
    for (auto& d : bucket_) d.resize(kFan);
  }
  RadixQueue(const RadixQueue&) = delete;
  RadixQueue& operator=(const RadixQueue&) = delete;
  bool empty() const { return count_ == 0; }
  K level() const { return cur_; }  // key of the last element popped
  void push(K key, const E& e) {    // key >= level()
    ++count_;
    place(key, e);
  }
  E pop() {
    if (!fifo_.head || head_ == fifo_.count(fifo_.head)) next_fifo_block();
    --count_;
    return fifo_.head->items()[head_++].e;
  }
  // The element that pop() will return k calls from now if it is already known (same key, in the FIFO's
  // current block or the next), else nullptr: lets the caller prefetch what it will touch then.
  const E* peek(std::size_t k) const {
    const Block* blk = fifo_.head;
    if (!blk) return nullptr;
    std::size_t i = head_ + k;
    const std::uint32_t n = fifo_.count(blk);
    if (i < n) return &blk->items()[i].e;
    i -= n;
    blk = blk->next;
    return blk && i < fifo_.count(blk) ? &blk->items()[i].e : nullptr;
  }

 private:
  void place(K key, const E& e) {
    const K x = key ^ cur_;
    if (x == 0) {
      append(fifo_, key, e);
      return;
    }
    const int d = (highest_bit(x)) / kBits;
    const std::size_t j = static_cast<std::size_t>(key >> (d * kBits)) & (kFan - 1);
    List& b = bucket_[d][j];
    if (!b.head) {
      bits_[d][j / 64] |= std::uint64_t(1) << (j % 64);
      words_[d] |= std::uint32_t(1) << (j / 64);
    }
    append(b, key, e);
  }
  // Field by field into the slot: a temporary Item built on the stack and copied whole stalled each push on
  // store forwarding (two narrow stores read back as one wide load), a third of the flood's time.
  void append(List& l, K key, const E& e) {
    if (l.tail_count == l.tail_cap) {  // full, or no block yet (0 == 0); a list's first block is the smaller one
      Block* nb = new_block(l.tail ? kClasses - 1 : 0);
      if (l.tail) l.tail->next = nb;
      else l.head = nb;
      l.tail = nb;
      l.tail_count = 0;
      l.tail_cap = capacity(nb->cls);
    }
    Item& it = l.tail->items()[l.tail_count++];
    it.key = key;
    it.e = e;
  }
  Block* new_block(std::uint32_t cls) {
    Block* b = free_[cls];
    if (b) {
      free_[cls] = b->next;
    } else {
      const std::size_t bytes = sizeof(Block) + capacity(cls) * sizeof(Item);
      if (slab_left_[cls] < bytes) {  // slabs of a class double, from 16 blocks: few allocations, bounded waste
        slab_blocks_[cls] = slab_blocks_[cls] ? 2 * slab_blocks_[cls] : 16;
        slabs_.emplace_back(new std::byte[slab_blocks_[cls] * bytes]);
        slab_at_[cls] = slabs_.back().get();
        slab_left_[cls] = slab_blocks_[cls] * bytes;
      }
      b = ::new (static_cast<void*>(slab_at_[cls])) Block;
      slab_at_[cls] += bytes;
      slab_left_[cls] -= bytes;
    }
    b->next = nullptr;
    b->cls = cls;
    return b;
  }
  void release(Block* b) {
    b->next = free_[b->cls];
    free_[b->cls] = b;
  }
  // The FIFO's current block is used up: go on with its next block, or refill an empty FIFO from the buckets.
  void next_fifo_block() {
    Block* done = fifo_.head;
    head_ = 0;
    if (done) {
      fifo_.head = done->next;
      if (!fifo_.head) fifo_ = List{};
      release(done);
      if (fifo_.head) return;
    }
    refill();
  }
  static int highest_bit(K x) {  // x != 0
#if defined(__GNUC__) || defined(__clang__)
    if constexpr (sizeof(K) == 8) return 63 - __builtin_clzll(x);
    else return 31 - __builtin_clz(x);
#else
    int b = 0;
    while (x >>= 1) ++b;
    return b;
#endif
  }
  void refill() {  // the FIFO is empty
    int d = 0;
    while (words_[d] == 0) ++d;  // count_ > 0: some bucket holds an element
    const std::size_t w = static_cast<std::size_t>(lowest_bit(words_[d]));
    const std::size_t j = w * 64 + static_cast<std::size_t>(lowest_bit(bits_[d][w]));
    bits_[d][w] &= bits_[d][w] - 1;
    if (bits_[d][w] == 0) words_[d] &= words_[d] - 1;
    List b = bucket_[d][j];
    bucket_[d][j] = List{};
    // Keys that agree on every digit (all equal, already in push order), or a lone key: no need to spread them.
    if (d == 0 || (b.head == b.tail && b.tail_count == 1)) {
      cur_ = b.head->items()[0].key;
      fifo_ = b;
      return;
    }
    K m = b.head->items()[0].key, mx = m;
    for (const Block* blk = b.head; blk; blk = blk->next) {
      for (std::uint32_t i = 0, n = b.count(blk); i < n; ++i) {
        m = std::min(m, blk->items()[i].key);
        mx = std::max(mx, blk->items()[i].key);
      }
    }
    cur_ = m;
    if (m == mx) {  // all equal, in push order: the FIFO as they are (each pixel of a ring of a distance map)
      fifo_ = b;
      return;
    }
    for (Block* blk = b.head; blk;) {  // all go below digit d, in order
      const Item* it = blk->items();
      for (std::uint32_t i = 0, n = b.count(blk); i < n; ++i) place(it[i].key, it[i].e);
      Block* next = blk->next;
      release(blk);
      blk = next;
    }
  }

  List fifo_;
  std::size_t head_ = 0;  // in fifo_.head
  std::vector<List> bucket_[kDigits];
  std::uint64_t bits_[kDigits][kWords] = {};
  // Bit w of words_[d]: bits_[d][w] != 0. The lowest non-empty bucket is then two bit scans away, where a scan
  // of up to 32 words per refill cost a sixth of the flood on a relief of distinct values (a refill per pop).
  std::uint32_t words_[kDigits] = {};
  K cur_;
  std::size_t count_ = 0;
  Block* free_[kClasses] = {};
  std::vector<std::unique_ptr<std::byte[]>> slabs_;
  std::byte* slab_at_[kClasses] = {};
  std::size_t slab_left_[kClasses] = {}, slab_blocks_[kClasses] = {};
};

// The plain float case (no compactness, no lines), as flood_levels but on order keys in a RadixQueue. The
// flood visits pixels in value order, which jumps across the image: each visit's neighbours are cache misses,
// so the key, the label and the "taken" flag of a pixel share one cell (one miss where three arrays cost
// three). Pixels outside the mask and the frame are marked taken with a nonzero label that is never read
// (only seeds and pixels labelled on entry leave the queue); the caller writes 0 there.
template <class K>
struct KeyCell {
  K k;
  std::int32_t label;
  K key() const { return k; }
  void set_key(K v) { k = v; }
};
// 12 bytes instead of an aligned 16 for double keys: a cache line holds a third more pixels.
template <>
struct KeyCell<std::uint64_t> {
  std::uint32_t lo, hi;
  std::int32_t label;
  std::uint64_t key() const { return (std::uint64_t(hi) << 32) | lo; }
  void set_key(std::uint64_t v) {
    lo = static_cast<std::uint32_t>(v);
    hi = static_cast<std::uint32_t>(v >> 32);
  }
};

inline void prefetch(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 1);
#else
  (void)p;
#endif
}

// Ask for the cells that a visit of `cell` (an element of a grid of rows `pw` cells apart) reads: in its row
// the three around it, above and below one (three with kDiagonals). A cell may straddle two cache lines, so
// each span's first and last byte are asked for; but above and below without diagonals only the cell's last
// byte: every visit reads the label there (the last field of each cell), while the rest, a key, is read only
// for a neighbour pushed, and lies in another line only when a 12-byte cell straddles two (one in eight). On a
// negated distance map the flood took 3-4 % less time with the two prefetches fewer. Inlined: as a call it
// slowed the floods by 15-20%.
template <bool kDiagonals, class Cell>
SEGEN_ALWAYS_INLINE void prefetch_neighbourhood(const Cell* cell, std::ptrdiff_t pw) {
  constexpr std::ptrdiff_t sz = sizeof(Cell), side = kDiagonals ? sz : 0;
  const std::ptrdiff_t row = sz * pw;
  const char* c = reinterpret_cast<const char*>(cell);
  if constexpr (kDiagonals) prefetch(c - row - side);
  prefetch(c - row + sz + side - 1);
  prefetch(c - sz);
  prefetch(c + 2 * sz - 1);
  if constexpr (kDiagonals) prefetch(c + row - side);
  prefetch(c + row + sz + side - 1);
}

template <int Nnb, class K>
void flood_cells(KeyCell<K>* cell, std::ptrdiff_t pw, const std::vector<std::int32_t>& seeds) {
  if (seeds.empty()) return;
  K start = cell[seeds.front()].key();
  for (const std::int32_t p : seeds) start = std::min(start, cell[p].key());
  RadixQueue<K, std::int32_t> q(start);
  for (const std::int32_t p : seeds) q.push(cell[p].key(), p);
  const std::ptrdiff_t nb[8] = {-pw, -1, 1, pw, -pw - 1, -pw + 1, pw - 1, pw + 1};  // scikit-image's order
  constexpr std::size_t kAhead = 16;  // about a memory latency's worth of visits
  std::uint32_t steps = 0;
  while (!q.empty()) {
    if ((++steps & 4095u) == 0) poll_interrupt();
    const std::ptrdiff_t p = q.pop();
    if (const std::int32_t* next = q.peek(kAhead))  // its cells are cache misses: ask for them early
      prefetch_neighbourhood<Nnb == 8>(cell + *next, pw);
    const K cur = q.level();
    const std::int32_t lab = cell[p].label;
    // The neighbours not yet reached get the label and are listed without a branch (whether one is free was a
    // coin toss, mispredicted about once a pop), then pushed in scikit-image's order.
    unsigned fresh = 0;  // bit i: neighbour i
    for (int i = 0; i < Nnb; ++i) {
      KeyCell<K>& c = cell[p + nb[i]];
      const bool free = c.label == 0;
      c.label = free ? lab : c.label;
      fresh |= unsigned(free) << i;
    }
    for (; fresh; fresh &= fresh - 1) {
      const int i = lowest_bit(fresh);
      const KeyCell<K>& c = cell[p + nb[i]];
      // The row beyond it, which its visit will read: on a relief of distinct values the FIFO holds one element
      // and nothing above looks ahead, so ask now, while the pixel waits in the queue.
      prefetch(&c + nb[i]);
      q.push(std::max(c.key(), cur), static_cast<std::int32_t>(p + nb[i]));
    }
  }
}

// A row of the queue flood's cells (frame excluded), as a loop without branches that each CPU level's copy
// vectorises: key and label inside the mask (`ms`, nullptr for none), the taken mark outside (where the key
// is written too but never read). Returns whether a value of the row is NaN (anywhere, mask or not: bit 0)
// and whether the row holds a marker inside the mask (bit 1; markers are often a few hundred pixels, and a
// scalar search of every row for them took a fifth of the fill).
template <class T, class Cell>
SEGEN_ALWAYS_INLINE unsigned plain_fill_impl(const T* src, const std::int32_t* mk, const std::uint8_t* ms,
                                             Cell* row, std::ptrdiff_t w, std::int32_t taken) {
  unsigned nan = 0, marked = 0;
  if (ms) {
    for (std::ptrdiff_t x = 0; x < w; ++x) {
      nan |= src[x] != src[x];
      row[x].set_key(order_key(src[x]));
      row[x].label = ms[x] ? mk[x] : taken;
      marked |= unsigned(ms[x] != 0) & unsigned(mk[x] != 0);
    }
  } else {
    for (std::ptrdiff_t x = 0; x < w; ++x) {
      nan |= src[x] != src[x];
      row[x].set_key(order_key(src[x]));
      row[x].label = mk[x];
      marked |= unsigned(mk[x] != 0);
    }
  }
  return unsigned(nan != 0) | unsigned(marked != 0) << 1;
}
#define SEGEN_PLAIN_ROWS(T, K)                                                                                  \
  SEGEN_MULTIVERSION(V4, , unsigned, plain_fill_row,                                                           \
                     (const T* src, const std::int32_t* mk, const std::uint8_t* ms, KeyCell<K>* row,            \
                      std::ptrdiff_t w, std::int32_t taken),                                                    \
                     (src, mk, ms, row, w, taken)) {                                                            \
    return plain_fill_impl<T, KeyCell<K>>(src, mk, ms, row, w, taken);                                          \
  }
SEGEN_PLAIN_ROWS(float, std::uint32_t)
SEGEN_PLAIN_ROWS(double, std::uint64_t)
#undef SEGEN_PLAIN_ROWS
// A row of the queue flood's labels, 0 outside the mask (`ms`, nullptr for none); vectorised per CPU level.
#define SEGEN_PLAIN_OUT(K)                                                                                       \
  SEGEN_MULTIVERSION(V4, , void, plain_out_row,                                                                 \
                     (const KeyCell<K>* row, const std::uint8_t* ms, std::int32_t* dst, std::ptrdiff_t w),       \
                     (row, ms, dst, w)) {                                                                        \
    if (ms) {                                                                                                    \
      for (std::ptrdiff_t x = 0; x < w; ++x) dst[x] = ms[x] ? row[x].label : 0;                                 \
    } else {                                                                                                     \
      for (std::ptrdiff_t x = 0; x < w; ++x) dst[x] = row[x].label;                                             \
    }                                                                                                            \
  }
SEGEN_PLAIN_OUT(std::uint32_t)
SEGEN_PLAIN_OUT(std::uint64_t)
#undef SEGEN_PLAIN_OUT

// An array for randomly visited per-pixel state, uninitialised: a ScratchBuffer, so on transparent huge pages
// where Linux offers them (the flood's visits jump across the whole image, and with 4 KiB pages nearly every
// one also missed the TLB), and kept for the next call by the scratch cache (a fresh one is fresh pages, which
// the kernel zeroes on first touch: about a tenth of a flood's call).
template <class V>
class VisitArray {
 public:
  explicit VisitArray(std::size_t n) : buf_(n * sizeof(V)) {}
  V* data() { return static_cast<V*>(buf_.data()); }

 private:
  detail::ScratchBuffer buf_;
};

template <class T>
void watershed_float_plain(ImageView<const T> image, ImageView<const std::int32_t> markers,
                           ImageView<const std::uint8_t> mask, ImageView<std::int32_t> out, int nnb) {
  using K = decltype(order_key(T()));
  using Cell = KeyCell<K>;
  const std::ptrdiff_t h = image.height, w = image.width, pw = w + 2, ph = h + 2;
  constexpr std::int32_t kTaken = -1;  // frame and outside the mask: never flooded, never read
  VisitArray<Cell> cell(static_cast<std::size_t>(ph * pw));
  Cell frame{};
  frame.label = kTaken;
  std::fill(cell.data(), cell.data() + pw, frame);
  std::fill(cell.data() + (ph - 1) * pw, cell.data() + ph * pw, frame);
  // Rows in parallel (keys, labels, the NaN check and each row's seeds); the seeds are then joined in row
  // order, so the queue sees them in raster order whatever the thread count.
  std::vector<std::vector<std::int32_t>> row_seeds(static_cast<std::size_t>(h));
  std::vector<std::uint8_t> row_nan(static_cast<std::size_t>(h), 0);
  parallel_for(h, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) {
    for (std::ptrdiff_t y = y0; y < y1; ++y) {
      const T* src = image.row(y);
      const std::int32_t* mk = markers.row(y);
      const std::uint8_t* ms = mask.empty() ? nullptr : mask.row(y);
      Cell* row = cell.data() + (y + 1) * pw;
      row[0] = row[w + 1] = frame;
      ++row;
      const unsigned flags = plain_fill_row(src, mk, ms, row, w, kTaken);
      row_nan[y] = flags & 1;
      if (flags & 2) {
        for (std::ptrdiff_t x = 0; x < w; ++x)
          if (mk[x] && (!ms || ms[x])) row_seeds[y].push_back(static_cast<std::int32_t>((y + 1) * pw + x + 1));
      }
    }
  }, 16);
  if (std::find(row_nan.begin(), row_nan.end(), 1) != row_nan.end())
    throw InvalidArgument("`image` must not contain NaN");
  std::size_t nseeds = 0;
  for (const auto& r : row_seeds) nseeds += r.size();
  std::vector<std::int32_t> seeds;
  seeds.reserve(nseeds);
  for (auto& r : row_seeds) {
    seeds.insert(seeds.end(), r.begin(), r.end());
    std::vector<std::int32_t>().swap(r);
  }
  if (nnb == 8) flood_cells<8>(cell.data(), pw, seeds);
  else flood_cells<4>(cell.data(), pw, seeds);
  parallel_for(h, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) {
    for (std::ptrdiff_t y = y0; y < y1; ++y) {
      plain_out_row(cell.data() + (y + 1) * pw + 1, mask.empty() ? nullptr : mask.row(y), out.row(y), w);
    }
  }, 16);
}

// The plain float case on a relief with few ties: the same flood without a priority queue. The queue pops
// pixels by (key, age). A pixel whose key no other pixel shares is popped when the flood's level reaches its
// key if a neighbour was popped before (the first one popped pushed it and gave it its label); otherwise it is
// popped later, at the level of the first neighbour popped, with the connected pixels below that level that
// wait with it (a lake, filled first-in first-out at that level). So the pops follow the keys in sorted order,
// with each lake filled when the sweep reaches its rim, and only pixels of equal keys need the queue's
// first-in first-out order, which a group of equal keys replays: first its pixels pushed before its level, in
// the order of their pushes (markers first, in raster order, then by the pop number of the pusher and the
// pixel's place in the pusher's scan), then whatever they push at that level. Every pixel gets the label and
// the pop number that the queue gives it, so the labels are the queue's, ties included.
// Why: on a relief of distinct values the queue's next pop depends on the pushes of the one before (a chain of
// dependent steps through the queue's buckets, and each pop's cells a cache miss), while here the order is
// known ahead: the cells of the pixel 16 pops on are prefetched, and the sort is sequential. The sort: one pass
// spreads the pixels into 256 buckets by the top bits of a 32-bit sort key (for double, the 32 highest bits in
// which the keys differ), then the buckets are radix-sorted on the rest, in parallel and each in cache; the
// sweep orders the rare runs of equal sort keys by the whole key when it reaches them.
// The sweep's state of a pixel is one word: its pop number t (or one of four states above every pop number)
// above its label, so that of a pixel's neighbours the one popped first (smallest t, then label) holds the
// smallest word. The word is 32 bits where the labels and the pop numbers fit (labels below 2^lb and at most
// 2^(32 - lb) - 4 pixels: lb = 11 for 1212 x 1536), else 64 (lb = 32): half the bytes for the passes that write
// and read every cell, and for the sweep's visits all over the image.
template <class V>
struct SweepWord {
  int lb;  // bits of the label
  V lmask;
  V outside, unseen, deferred, queued;  // values of t: frame and outside the mask; key above the sweep's level;
                                        // swept with no popped neighbour (waits in a lake); pushed at the
                                        // current level (below this: popped, t is the pop number)
  explicit SweepWord(int label_bits) : lb(label_bits) {
    lmask = (V(1) << lb) - 1;
    const V tmax = ~V(0) >> lb;
    outside = tmax;
    unseen = tmax - 1;
    deferred = tmax - 2;
    queued = tmax - 3;
  }
  V make(V t, V label) const { return (t << lb) | label; }
  V t(V v) const { return v >> lb; }
  V label(V v) const { return v & lmask; }
};

// The sweep's passes over the image, a row at a time, as loops without branches that each CPU level's copy
// vectorises: the sort key of every pixel (see watershed_float_sweep), and in the first pass also its cell and
// whether a value is NaN (bit 0 of the result) or, inside the mask (`ms`, nullptr for none), outside
// [kmin, kmax] (bit 1), or a label above `lmax` (bit 2: it does not fit the cell). The buckets' counts and
// places, a scatter, are then a scalar loop over the row's keys.
template <class K>
SEGEN_ALWAYS_INLINE std::uint32_t sort_key(K k, K kmin, K kmax, int shift) {
  return static_cast<std::uint32_t>((std::min(std::max(k, kmin), kmax) - kmin) >> shift);
}
template <class T, class K>
SEGEN_ALWAYS_INLINE void sweep_keys_impl(const T* src, std::uint32_t* sk, std::ptrdiff_t w, K kmin, K kmax,
                                         int shift) {
  for (std::ptrdiff_t x = 0; x < w; ++x) sk[x] = sort_key(order_key(src[x]), kmin, kmax, shift);
}
// unseen, outside: the cell of a pixel in the mask (its label or'ed in) and of one outside it.
template <class T, class K, class V>
SEGEN_ALWAYS_INLINE unsigned sweep_fill_impl(const T* src, const std::int32_t* mk, const std::uint8_t* ms, V* cell,
                                             std::uint32_t* sk, std::ptrdiff_t w, K kmin, K kmax, int shift,
                                             V unseen, V outside, std::uint32_t lmax) {
  unsigned nan = 0, out = 0, big = 0;
  if (ms) {
    for (std::ptrdiff_t x = 0; x < w; ++x) {
      const K k = order_key(src[x]);
      const unsigned in = ms[x] != 0;
      const std::uint32_t lab = static_cast<std::uint32_t>(mk[x]);
      nan |= src[x] != src[x];  // outside the mask too: NaN is refused anywhere
      out |= in & (unsigned(k < kmin) | unsigned(k > kmax));
      big |= in & unsigned(lab > lmax);
      sk[x] = sort_key(k, kmin, kmax, shift);
      cell[x] = in ? unseen | V(lab & lmax) : outside;
    }
  } else {
    for (std::ptrdiff_t x = 0; x < w; ++x) {
      const K k = order_key(src[x]);
      const std::uint32_t lab = static_cast<std::uint32_t>(mk[x]);
      nan |= src[x] != src[x];
      out |= unsigned(k < kmin) | unsigned(k > kmax);
      big |= unsigned(lab > lmax);
      sk[x] = sort_key(k, kmin, kmax, shift);
      cell[x] = unseen | V(lab & lmax);
    }
  }
  return unsigned(nan != 0) | unsigned(out != 0) << 1 | unsigned(big != 0) << 2;
}
#define SEGEN_SWEEP_KEYS(T, K)                                                                                  \
  SEGEN_MULTIVERSION(V4, , void, sweep_keys_row,                                                               \
                     (const T* src, std::uint32_t* sk, std::ptrdiff_t w, K kmin, K kmax, int shift),            \
                     (src, sk, w, kmin, kmax, shift)) {                                                         \
    sweep_keys_impl<T, K>(src, sk, w, kmin, kmax, shift);                                                       \
  }
#define SEGEN_SWEEP_FILL(T, K, V)                                                                               \
  SEGEN_MULTIVERSION(V4, , unsigned, sweep_fill_row,                                                           \
                     (const T* src, const std::int32_t* mk, const std::uint8_t* ms, V* cell, std::uint32_t* sk, \
                      std::ptrdiff_t w, K kmin, K kmax, int shift, V unseen, V outside, std::uint32_t lmax),    \
                     (src, mk, ms, cell, sk, w, kmin, kmax, shift, unseen, outside, lmax)) {                   \
    return sweep_fill_impl<T, K, V>(src, mk, ms, cell, sk, w, kmin, kmax, shift, unseen, outside, lmax);        \
  }
// A row of the sweep's labels: a pixel popped keeps its label, any other (outside the mask, unreached) is 0.
#define SEGEN_SWEEP_OUT(V)                                                                                      \
  SEGEN_MULTIVERSION(V4, , void, sweep_out_row,                                                                \
                     (const V* row, std::int32_t* dst, std::ptrdiff_t w, SweepWord<V> sw), (row, dst, w, sw)) { \
    for (std::ptrdiff_t x = 0; x < w; ++x)                                                                      \
      dst[x] = sw.t(row[x]) < sw.queued ? static_cast<std::int32_t>(static_cast<std::uint32_t>(sw.label(row[x]))) \
                                        : 0;                                                                    \
  }
SEGEN_SWEEP_KEYS(float, std::uint32_t)
SEGEN_SWEEP_KEYS(double, std::uint64_t)
SEGEN_SWEEP_FILL(float, std::uint32_t, std::uint32_t)
SEGEN_SWEEP_FILL(float, std::uint32_t, std::uint64_t)
SEGEN_SWEEP_FILL(double, std::uint64_t, std::uint32_t)
SEGEN_SWEEP_FILL(double, std::uint64_t, std::uint64_t)
SEGEN_SWEEP_OUT(std::uint32_t)
SEGEN_SWEEP_OUT(std::uint64_t)
#undef SEGEN_SWEEP_KEYS
#undef SEGEN_SWEEP_FILL
#undef SEGEN_SWEEP_OUT

// Stable LSD radix sort of v[0, n) by bits [32, 32 + bits) of each element (the low bits of a sort key whose
// high bits the elements share), in passes of at most 12 bits (one whose digit all elements share is skipped);
// tmp has room for n.
inline void radix_sort_low(std::uint64_t* v, std::uint64_t* tmp, std::size_t n, int bits,
                           std::vector<std::uint32_t>& hist) {
  const int passes = (bits + 11) / 12, width = (bits + passes - 1) / passes;
  const std::size_t fan = std::size_t(1) << width;
  const std::uint64_t digit = fan - 1;
  hist.assign(static_cast<std::size_t>(passes) * fan, 0);
  std::uint32_t* h0 = hist.data();
  if (passes == 2) {  // the usual case, unrolled: the loop over the passes, with its shifts by a count held in
                      // a register, was about a quarter of the sort's profile
    std::uint32_t* h1 = h0 + fan;
    const int s1 = 32 + width;
    for (std::size_t i = 0; i < n; ++i) {
      ++h0[(v[i] >> 32) & digit];
      ++h1[(v[i] >> s1) & digit];
    }
  } else {
    for (std::size_t i = 0; i < n; ++i)
      for (int d = 0; d < passes; ++d) ++h0[d * fan + ((v[i] >> (32 + d * width)) & digit)];
  }
  std::uint64_t* src = v;
  for (int d = 0; d < passes; ++d) {
    std::uint32_t* h = hist.data() + d * fan;
    const int sh = 32 + d * width;
    if (h[(src[0] >> sh) & digit] == n) continue;
    std::uint32_t sum = 0;
    for (std::size_t j = 0; j < fan; ++j) {
      const std::uint32_t cnt = h[j];
      h[j] = sum;
      sum += cnt;
    }
    std::uint64_t* dst = src == v ? tmp : v;
    for (std::size_t i = 0; i < n; ++i) dst[h[(src[i] >> sh) & digit]++] = src[i];
    src = dst;
  }
  if (src != v) std::copy(src, src + n, v);
}

// About 4096 values of `image` on a regular grid (inside the mask, NaN left out), sorted: what the choice of
// flood and the sweep's key range are judged on.
template <class T>
std::vector<T> grid_sample(ImageView<const T> image, ImageView<const std::uint8_t> mask) {
  const std::ptrdiff_t h = image.height, w = image.width;
  const std::ptrdiff_t sy = std::max<std::ptrdiff_t>(1, h / 64), sx = std::max<std::ptrdiff_t>(1, w / 64);
  std::vector<T> v;
  v.reserve(static_cast<std::size_t>((h / sy + 1) * (w / sx + 1)));
  for (std::ptrdiff_t y = sy / 2; y < h; y += sy) {
    const T* row = image.row(y);
    for (std::ptrdiff_t x = sx / 2; x < w; x += sx)
      if ((mask.empty() || mask(y, x)) && row[x] == row[x]) v.push_back(row[x]);
  }
  std::sort(v.begin(), v.end());
  return v;
}

// V: the cell word (see SweepWord), lb its label bits. Returns false, having written nothing to `out`, when a
// label in the mask does not fit (the caller then sweeps with 64-bit cells).
template <class T, class V>
bool watershed_float_sweep(ImageView<const T> image, ImageView<const std::int32_t> markers,
                           ImageView<const std::uint8_t> mask, ImageView<std::int32_t> out, int nnb,
                           const std::vector<T>& sample, int lb) {
  using K = decltype(order_key(T()));
  using Cell = V;
  const SweepWord<V> sw(lb);
  const std::ptrdiff_t h = image.height, w = image.width, pw = w + 2, ph = h + 2;
  // The sort key: a key's offset from the lowest key of `sample` (grid_sample's), clamped to the
  // sample's range and cut to its 32 highest bits where that range needs more. The buckets then share the
  // range; the few pixels outside it (and, for double, keys that differ only below those 32 bits) leave runs of
  // equal sort keys, which the sweep orders by the whole key when it reaches them.
  K kmin = 0, kmax = 0;  // (0, 0) when no sample lies in the mask
  if (!sample.empty()) {
    kmin = order_key(sample.front());
    kmax = order_key(sample.back());
  }
  int sbits = 0;  // bits of the sort key
  while (sbits < int(8 * sizeof(K)) && ((kmax - kmin) >> sbits) != 0) ++sbits;
  const int shift = std::max(0, sbits - 32);
  sbits -= shift;
  // Buckets of the sort key's top bits, counted in one pass over the image and filled in a second; each is then
  // sorted on its other bits (in cache, buckets in parallel).
  constexpr int kTop = 8;
  const int top_shift = std::max(0, sbits - kTop);
  const std::size_t nbuckets = (std::size_t(1) << (sbits - top_shift));
  constexpr std::ptrdiff_t kBlock = 32;  // rows per block of the fill
  const std::ptrdiff_t nblocks = (h + kBlock - 1) / kBlock;
  std::vector<std::uint32_t> pos(static_cast<std::size_t>(nblocks) * nbuckets, 0);
  VisitArray<Cell> cell(static_cast<std::size_t>(ph * pw));
  Cell* c = cell.data();
  const Cell frame = sw.make(sw.outside, 0);
  const std::uint32_t lmax = static_cast<std::uint32_t>(std::min<V>(sw.lmask, 0xFFFFFFFFu));
  std::fill(c, c + pw, frame);
  std::fill(c + (ph - 1) * pw, c + ph * pw, frame);
  // Per block: NaN seen, a key outside the sample's range seen, a label too large for the cells.
  std::vector<std::uint8_t> block_nan(static_cast<std::size_t>(nblocks), 0), block_out(block_nan.size(), 0),
      block_big(block_nan.size(), 0);
  parallel_for(nblocks, [&](std::ptrdiff_t b0, std::ptrdiff_t b1) {  // cells, and each block's bucket counts
    std::vector<std::uint32_t> sk(static_cast<std::size_t>(w));
    for (std::ptrdiff_t b = b0; b < b1; ++b) {
      std::uint32_t* hist = pos.data() + b * nbuckets;
      unsigned flags = 0;
      for (std::ptrdiff_t y = b * kBlock; y < std::min(h, (b + 1) * kBlock); ++y) {
        const std::uint8_t* ms = mask.empty() ? nullptr : mask.row(y);
        Cell* row = c + (y + 1) * pw;
        row[0] = row[w + 1] = frame;
        flags |= sweep_fill_row(image.row(y), markers.row(y), ms, row + 1, sk.data(), w, kmin, kmax, shift,
                                sw.make(sw.unseen, 0), frame, lmax);
        if (ms) {
          for (std::ptrdiff_t x = 0; x < w; ++x)
            if (ms[x]) ++hist[sk[x] >> top_shift];
        } else {
          for (std::ptrdiff_t x = 0; x < w; ++x) ++hist[sk[x] >> top_shift];
        }
      }
      block_nan[b] = flags & 1;
      block_out[b] = (flags >> 1) & 1;
      block_big[b] = (flags >> 2) & 1;
    }
  }, 1);
  if (std::find(block_nan.begin(), block_nan.end(), 1) != block_nan.end())
    throw InvalidArgument("`image` must not contain NaN");
  if (std::find(block_big.begin(), block_big.end(), 1) != block_big.end()) return false;
  const bool clamped = std::find(block_out.begin(), block_out.end(), 1) != block_out.end();
  std::vector<std::size_t> bucket_start(nbuckets + 1, 0);
  {
    std::size_t sum = 0;
    for (std::size_t k = 0; k < nbuckets; ++k) {
      bucket_start[k] = sum;
      for (std::ptrdiff_t b = 0; b < nblocks; ++b) {
        std::uint32_t& e = pos[b * nbuckets + k];
        const std::uint32_t cnt = e;
        e = static_cast<std::uint32_t>(sum);
        sum += cnt;
      }
    }
    bucket_start[nbuckets] = sum;
  }
  const std::size_t n = bucket_start[nbuckets];
  if (n == 0) {  // nothing in the mask
    for (std::ptrdiff_t y = 0; y < h; ++y) std::fill(out.row(y), out.row(y) + w, 0);
    return true;
  }
  constexpr std::size_t kAhead = 16;  // the sweep prefetches the cells of the pixel kAhead places on
  VisitArray<std::uint64_t> sorted(n + kAhead + 1);  // and stops a run of equal sort keys at a sentinel (below)
  std::uint64_t* order = sorted.data();
  parallel_for(nblocks, [&](std::ptrdiff_t b0, std::ptrdiff_t b1) {  // each block's pixels to its places
    std::vector<std::uint32_t> sk(static_cast<std::size_t>(w));
    for (std::ptrdiff_t b = b0; b < b1; ++b) {
      std::uint32_t* at = pos.data() + b * nbuckets;
      for (std::ptrdiff_t y = b * kBlock; y < std::min(h, (b + 1) * kBlock); ++y) {
        const std::uint8_t* ms = mask.empty() ? nullptr : mask.row(y);
        const std::uint64_t base = static_cast<std::uint64_t>((y + 1) * pw + 1);
        sweep_keys_row(image.row(y), sk.data(), w, kmin, kmax, shift);
        for (std::ptrdiff_t x = 0; x < w; ++x) {
          if (ms && !ms[x]) continue;
          order[at[sk[x] >> top_shift]++] = (std::uint64_t(sk[x]) << 32) | (base + static_cast<std::uint64_t>(x));
        }
      }
    }
  }, 1);
  std::vector<std::uint32_t>().swap(pos);
  auto px = [](std::uint64_t e) { return static_cast<std::uint32_t>(e); };
  // The whole key of a pixel, for the rare runs of equal sort keys when those are not the whole key.
  auto key_of = [&](std::uint32_t p) {
    const std::ptrdiff_t y = static_cast<std::ptrdiff_t>(p) / pw - 1, x = static_cast<std::ptrdiff_t>(p) % pw - 1;
    return order_key(image(y, x));
  };
  // Whether pixels of equal sort key may differ in key: all of them for double keys cut to 32 bits, else only
  // those clamped to either end of the sample's range.
  const std::uint32_t smax = static_cast<std::uint32_t>((kmax - kmin) >> shift);
  auto ambiguous = [&](std::uint64_t e) {
    const std::uint32_t sk = static_cast<std::uint32_t>(e >> 32);
    return shift > 0 || (clamped && (sk == 0 || sk == smax));
  };
  // Each bucket sorted on its other bits (stable: equal sort keys stay in raster order), buckets in parallel.
  parallel_for(static_cast<std::ptrdiff_t>(nbuckets), [&](std::ptrdiff_t b0, std::ptrdiff_t b1) {
    std::vector<std::uint64_t> tmp;
    std::vector<std::uint32_t> hist;
    for (std::ptrdiff_t b = b0; b < b1; ++b) {
      const std::size_t lo = bucket_start[b], hi = bucket_start[b + 1], m = hi - lo;
      if (m > 1 && top_shift > 0) {
        if (tmp.size() < m) tmp.resize(m);
        radix_sort_low(order + lo, tmp.data(), m, top_shift, hist);
      }
    }
  }, 1);
  // Past the end: sort keys unlike the last one (a run of equal sort keys stops there without a bounds check),
  // each naming the frame's first interior pixel (its cells are what the sweep prefetches for them).
  std::fill(order + n, order + n + kAhead + 1, (~order[n - 1] & 0xFFFFFFFF00000000u) | std::uint64_t(pw + 1));

  // The sweep, compiled for each neighbourhood (its loops over the neighbours unrolled).
  auto sweep = [&](auto nnb_c) {
    constexpr int kNnb = decltype(nnb_c)::value;
    // scikit-image's neighbour order; opp[k]: the place in a pusher's scan of the pixel it reaches through nb[k]'s
    // opposite (the pusher at p + nb[k] reaches p as its neighbour nb[opp[k]]). The pixels that one pusher pushes
    // at one key carry its label, so their order among themselves changes no label; it keeps the pop numbers the
    // queue's all the same.
    const std::ptrdiff_t nb[8] = {-pw, -1, 1, pw, -pw - 1, -pw + 1, pw - 1, pw + 1};
    constexpr std::uint64_t opp[8] = {3, 2, 1, 0, 7, 6, 5, 4};
    std::uint32_t next = 0;  // pop number
    std::vector<std::uint32_t> fifo;
    // A popped pixel pushes its waiting neighbours at the current level with its label; they are popped
    // first-in first-out, each pushing its own.
    auto push_lake = [&](std::uint32_t q) {
      const V lab = sw.label(c[q]);
      for (int k = 0; k < kNnb; ++k) {
        Cell& m = c[q + nb[k]];
        if (sw.t(m) == sw.deferred) {
          m = sw.make(sw.queued, lab);
          prefetch(&m + nb[k]);  // the row beyond, which its own pop reads (a lake's pixels were swept long ago)
          fifo.push_back(static_cast<std::uint32_t>(q + nb[k]));
        }
      }
    };
    auto drain = [&] {
      for (std::size_t head = 0; head < fifo.size(); ++head) {
        const std::uint32_t q = fifo[head];
        c[q] = sw.make(next++, sw.label(c[q]));
        push_lake(q);
      }
      fifo.clear();
    };
    struct Entry {
      std::uint64_t rank;
      std::uint32_t p, label;
    };
    std::vector<Entry> entries;
    std::size_t poll_at = 0, sorted_to = 0;  // order[i, sorted_to): a run already in the order of whole keys
    for (std::size_t i = 0; i < n;) {
      if (i >= poll_at) {
        poll_interrupt();
        poll_at = i + 4096;
      }
      prefetch_neighbourhood<kNnb == 8>(c + px(order[i + kAhead]), pw);  // the cells that pop reads
      const std::uint64_t sk = order[i] >> 32;
      std::size_t j = i + 1;
      while ((order[j] >> 32) == sk) ++j;
      if (j > i + 1 && ambiguous(order[i])) {  // equal sort keys, not necessarily equal keys
        if (i >= sorted_to) {  // (rare) ordered by the whole key, then raster order
          std::sort(order + i, order + j, [&](std::uint64_t x, std::uint64_t y) {
            const K kx = key_of(px(x)), ky = key_of(px(y));
            return kx != ky ? kx < ky : px(x) < px(y);
          });
          sorted_to = j;
        }
        const K kp = key_of(px(order[i]));
        j = i + 1;
        while ((order[j] >> 32) == sk && key_of(px(order[j])) == kp) ++j;
      }
      const std::uint32_t p = px(order[i]);
      if (j == i + 1) {  // a key of its own: popped now if a neighbour was, else it waits
        Cell& cp = c[p];
        if (sw.label(cp) != 0) {  // a marker
          cp = sw.make(next++, sw.label(cp));
          push_lake(p);
          drain();
        } else {
          V m = ~V(0);
          bool lake = false;
          for (int k = 0; k < kNnb; ++k) {
            const V v = c[p + nb[k]];
            m = std::min(m, v);
            lake |= sw.t(v) == sw.deferred;
          }
          if (sw.t(m) < sw.queued) {  // pushed by the first neighbour popped
            cp = sw.make(next++, sw.label(m));
            if (lake) {
              push_lake(p);
              drain();
            }
          } else {
            cp = sw.make(sw.deferred, 0);
          }
        }
      } else {  // a group of equal keys: replay the queue's order
        entries.clear();
        std::uint64_t rank = 0;
        for (std::size_t s = i; s < j; ++s) {
          const std::uint32_t q = px(order[s]);
          Cell& cq = c[q];
          if (sw.label(cq) != 0) {  // markers first (pushed before anything else), in raster order
            entries.push_back(Entry{rank++, q, static_cast<std::uint32_t>(sw.label(cq))});
            cq = sw.make(sw.queued, sw.label(cq));
            continue;
          }
          V m = ~V(0);
          int arg = 0;
          for (int k = 0; k < kNnb; ++k) {
            const V v = c[q + nb[k]];
            if (v < m) {
              m = v;
              arg = k;
            }
          }
          if (sw.t(m) < sw.queued) {  // pushed when its first popped neighbour was, from that neighbour's scan
            entries.push_back(Entry{(std::uint64_t(1) << 40) + (std::uint64_t(sw.t(m)) << 3) + opp[arg], q,
                                    static_cast<std::uint32_t>(sw.label(m))});
            cq = sw.make(sw.queued, 0);
          } else {
            cq = sw.make(sw.deferred, 0);
          }
        }
        std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.rank < b.rank; });
        for (const Entry& e : entries) {
          c[e.p] = sw.make(sw.queued, e.label);
          fifo.push_back(e.p);
        }
        drain();
      }
      i = j;
    }
  };
  if (nnb == 8) sweep(std::integral_constant<int, 8>{});
  else sweep(std::integral_constant<int, 4>{});
  parallel_for(h, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) {
    for (std::ptrdiff_t y = y0; y < y1; ++y) {
      sweep_out_row(c + (y + 1) * pw + 1, out.row(y), w, sw);
    }
  }, 16);
  return true;
}

template <class T>
void check_inputs(ImageView<const T> image, ImageView<const std::int32_t> markers, ImageView<const std::uint8_t> mask,
                  ImageView<std::int32_t> out, const WatershedOptions& o, bool scan_nan = true) {
  detail::require_nonempty(image, "image");
  if (image.channels != 1)
    throw InvalidArgument("`image` must be 2-D (H, W); got shape " +
                          detail::shape_str(image.height, image.width, image.channels));
  detail::require_same_shape(image, markers, "image", "markers");
  if (!mask.empty()) detail::require_same_shape(image, mask, "image", "mask");
  detail::require_same_shape(image, out, "image", "out");
  if (!(o.compactness >= 0) || !std::isfinite(o.compactness))
    throw InvalidArgument("`compactness` must be finite and >= 0; got " + detail::format_number(o.compactness));
  if (o.connectivity != Connectivity::Four && o.connectivity != Connectivity::Eight)
    throw InvalidArgument("`connectivity` must be 1 (4-neighbourhood) or 2 (8-neighbourhood)");
  if constexpr (std::is_floating_point_v<T>) {
    if (!scan_nan) return;
    for (std::ptrdiff_t y = 0; y < image.height; ++y)
      for (std::ptrdiff_t x = 0; x < image.width; ++x)
        if (std::isnan(image(y, x))) throw InvalidArgument("`image` must not contain NaN");
  }
}

// Which exact flood a float relief gets: the sweep when keys shared by several pixels are rare (it replays the
// queue's order for each group of equal keys, which costs more per pixel than the queue's FIFO), the radix
// queue otherwise (plateaus, quantised values, distance maps). Judged on about 4096 pixels of a regular grid:
// the sweep when fewer than 1 in 16 of them repeat another's value, on images of at most kSweepMaxPixels.
// SEGEN_WATERSHED_FLOOD=queue or =sweep forces one (both give the same labels; the tests run both).
//
// Beyond 4096 x 4096 the queue wins again: the sweep visits every pixel in sorted order, each visit a
// random read in a cell array far larger than the caches, where the queue reaches most pixels as
// neighbours of the one it pops. Float32 Sobel relief of a smoothed random field, 2 labels, 1 thread (ms,
// queue / sweep): 2048² 282 / 191, 4096² 1511 / 1457, 8192² 7971 / 10536.
constexpr std::ptrdiff_t kSweepMaxPixels = std::ptrdiff_t(1) << 24;
template <class T>
bool use_sweep(const std::vector<T>& v, std::ptrdiff_t pixels) {  // v: grid_sample's
  if (const char* env = std::getenv("SEGEN_WATERSHED_FLOOD")) {
    if (std::strcmp(env, "queue") == 0) return false;
    if (std::strcmp(env, "sweep") == 0) return true;
  }
  if (v.size() < 256 || pixels > kSweepMaxPixels) return false;  // small: either is fast; large: see above
  std::size_t repeats = 0;
  for (std::size_t i = 1; i < v.size(); ++i) repeats += v[i] == v[i - 1];
  return repeats * 16 < v.size();
}

}  // namespace

template <class T>
void watershed_into(ImageView<const T> image, ImageView<const std::int32_t> markers, ImageView<const std::uint8_t> mask,
                    ImageView<std::int32_t> out, const WatershedOptions& o) {
  const std::ptrdiff_t h = image.height, w = image.width, pw = w + 2, ph = h + 2;
  // the float fast path checks for NaN while it reads the image
  const bool fast_float = std::is_floating_point_v<T> && o.compactness == 0 && !o.watershed_line &&
                          (h + 2) * (w + 2) < std::numeric_limits<std::int32_t>::max();
  check_inputs(image, markers, mask, out, o, !fast_float);
  if constexpr (std::is_floating_point_v<T>) {
    if (fast_float) {
      const int nnb = o.connectivity == Connectivity::Eight ? 8 : 4;
      const std::vector<T> sample = grid_sample(image, mask);
      if (use_sweep(sample, h * w)) {
        int tb = 1;  // bits of a pop number in a 32-bit cell: h * w pops below its 4 states
        while ((std::ptrdiff_t(1) << tb) < h * w + 4) ++tb;
        if (tb >= 32 || !watershed_float_sweep<T, std::uint32_t>(image, markers, mask, out, nnb, sample, 32 - tb))
          watershed_float_sweep<T, std::uint64_t>(image, markers, mask, out, nnb, sample, 32);
      }
      else watershed_float_plain(image, markers, mask, out, nnb);
      return;
    }
  }
  Grid g;
  g.h = h;
  g.w = w;
  g.pw = pw;
  g.out.assign(static_cast<std::size_t>(ph * pw), 0);
  g.mask.assign(static_cast<std::size_t>(ph * pw), 0);
  // scikit-image's neighbour order: up, left, right, down, then the diagonals.
  const std::ptrdiff_t offs[8] = {-pw, -1, 1, pw, -pw - 1, -pw + 1, pw - 1, pw + 1};
  g.nnb = o.connectivity == Connectivity::Eight ? 8 : 4;
  for (int i = 0; i < 8; ++i) g.nb[i] = offs[i];
  std::vector<std::ptrdiff_t> seeds;
  for (std::ptrdiff_t y = 0; y < h; ++y) {
    const std::int32_t* mk = markers.row(y);
    const std::uint8_t* ms = mask.empty() ? nullptr : mask.row(y);
    for (std::ptrdiff_t x = 0; x < w; ++x) {
      const std::ptrdiff_t p = (y + 1) * pw + x + 1;
      const bool inside = !ms || ms[x];
      g.mask[p] = inside;
      if (inside && mk[x]) {
        g.out[p] = mk[x];
        seeds.push_back(p);
      }
    }
  }
  const bool compact = o.compactness > 0;
  const bool wsl = o.watershed_line;
  // image values on the padded grid (no division in the flooding loop)
  std::vector<T> padded(static_cast<std::size_t>(ph * pw), T(0));
  for (std::ptrdiff_t y = 0; y < h; ++y) std::copy(image.row(y), image.row(y) + w, padded.data() + (y + 1) * pw + 1);
  auto value_at = [&](std::ptrdiff_t p) { return padded[p]; };

  bool done = false;
  if constexpr (std::is_integral_v<T>) {
    if (!compact && !wsl && ph * pw < std::numeric_limits<std::int32_t>::max()) {
      flood_levels(g, padded.data(), std::size_t(1) << (8 * sizeof(T)), seeds);
      done = true;
    } else if (!compact) {
      BucketQueue q(std::size_t(1) << (8 * sizeof(T)));
      for (const std::ptrdiff_t p : seeds) q.push(static_cast<std::size_t>(value_at(p)), Elem{p, p});
      auto push = [&](std::ptrdiff_t n, std::ptrdiff_t src, double) {
        q.push(std::max(static_cast<std::size_t>(value_at(n)), q.level()), Elem{n, src});
      };
      auto pop = [&] { return q.pop(); };
      auto empty = [&] { return q.empty(); };
      if (wsl) flood<false, true>(g, 0.0, push, pop, empty);
      else flood<false, false>(g, 0.0, push, pop, empty);
      done = true;
    }
  }
  if constexpr (std::is_floating_point_v<T>) {
    if (!compact && ph * pw < std::numeric_limits<std::int32_t>::max()) {
      using K = decltype(order_key(T()));
      std::vector<K> key(padded.size());
      for (std::size_t i = 0; i < padded.size(); ++i) key[i] = order_key(padded[i]);
      if (!seeds.empty()) {
        K start = key[seeds.front()];
        for (const std::ptrdiff_t p : seeds) start = std::min(start, key[p]);
        RadixQueue<K, Elem> q(start);
        for (const std::ptrdiff_t p : seeds) q.push(key[p], Elem{p, p});
        auto push = [&](std::ptrdiff_t n, std::ptrdiff_t src, double) {
          q.push(std::max(key[n], q.level()), Elem{n, src});
        };
        auto pop = [&] { return q.pop(); };
        auto empty = [&] { return q.empty(); };
        flood<false, true>(g, 0.0, push, pop, empty);
      }
      done = true;
    }
  }
  if (!done) {
    HeapQueue q;
    std::uint64_t age = 1;  // markers all have age 0, as in scikit-image
    for (const std::ptrdiff_t p : seeds) q.push(static_cast<double>(value_at(p)), 0, Elem{p, p});
    auto push = [&](std::ptrdiff_t n, std::ptrdiff_t src, double extra) {
      // the cost of a neighbour is at least that of the pixel it is reached from (scikit-image's rule)
      q.push(std::max(static_cast<double>(value_at(n)) + extra, q.level()), age++, Elem{n, src});
    };
    auto pop = [&] { return q.pop(); };
    auto empty = [&] { return q.empty(); };
    if (compact) {
      flood<true, false>(g, o.compactness, push, pop, empty);
    } else {
      if (wsl) flood<false, true>(g, 0.0, push, pop, empty);
      else flood<false, false>(g, 0.0, push, pop, empty);
    }
  }
  for (std::ptrdiff_t y = 0; y < h; ++y) {
    const std::int32_t* src = g.out.data() + (y + 1) * pw + 1;
    std::copy(src, src + w, out.row(y));
  }
}

template <class T>
Image<std::int32_t> watershed(ImageView<const T> image, ImageView<const std::int32_t> markers,
                              ImageView<const std::uint8_t> mask, const WatershedOptions& options) {
  Image<std::int32_t> out(image.height, image.width, 1);
  watershed_into<T>(image, markers, mask, out.view(), options);
  return out;
}

template <class T>
std::int32_t local_minima_into(ImageView<const T> image, ImageView<std::int32_t> out, Connectivity connectivity) {
  detail::require_nonempty(image, "image");
  if (image.channels != 1)
    throw InvalidArgument("`image` must be 2-D (H, W); got shape " +
                          detail::shape_str(image.height, image.width, image.channels));
  detail::require_same_shape(image, out, "image", "out");
  detail::require_no_overlap(image, out, "image", "out");
  const std::ptrdiff_t h = image.height, w = image.width;
  if constexpr (std::is_floating_point_v<T>) {
    for (std::ptrdiff_t y = 0; y < h; ++y)
      for (std::ptrdiff_t x = 0; x < w; ++x)
        if (std::isnan(image(y, x))) throw InvalidArgument("`image` must not contain NaN");
  }
  const int dy[8] = {-1, 0, 0, 1, -1, -1, 1, 1}, dx[8] = {0, -1, 1, 0, -1, 1, -1, 1};
  const int nnb = connectivity == Connectivity::Eight ? 8 : 4;
  std::vector<std::uint8_t> seen(static_cast<std::size_t>(h * w), 0);
  std::vector<std::ptrdiff_t> plateau;
  for (std::ptrdiff_t y = 0; y < h; ++y) std::fill(out.row(y), out.row(y) + w, 0);
  std::int32_t n = 0;
  for (std::ptrdiff_t start = 0; start < h * w; ++start) {
    if ((start & 4095) == 0) poll_interrupt();
    if (seen[start]) continue;
    const T v = image(start / w, start % w);
    plateau.clear();
    plateau.push_back(start);
    seen[start] = 1;
    bool minimum = true;
    for (std::size_t q = 0; q < plateau.size(); ++q) {  // breadth-first over the plateau
      const std::ptrdiff_t p = plateau[q], py = p / w, px = p % w;
      for (int i = 0; i < nnb; ++i) {
        const std::ptrdiff_t yy = py + dy[i], xx = px + dx[i];
        if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
        const T u = image(yy, xx);
        if (u < v) minimum = false;
        else if (u == v && !seen[yy * w + xx]) {
          seen[yy * w + xx] = 1;
          plateau.push_back(yy * w + xx);
        }
      }
    }
    if (!minimum || static_cast<std::ptrdiff_t>(plateau.size()) == h * w) continue;  // constant: none
    ++n;
    for (const std::ptrdiff_t p : plateau) out(p / w, p % w) = n;
  }
  return n;
}

namespace {

// Running maximum over windows of 2r+1 samples with `nearest` borders (van Herk / Gil-Werman):
// out[i] = max(in[clamp(i - r)], ..., in[clamp(i + r)]) for i in [0, n). `buf` has room for 3 * (n + 2r).
template <class T>
void running_max(const T* in, std::ptrdiff_t n, std::ptrdiff_t step, std::ptrdiff_t r, T* out, std::ptrdiff_t out_step,
                 std::vector<T>& buf) {
  const std::ptrdiff_t k = 2 * r + 1, m = n + 2 * r;
  buf.resize(static_cast<std::size_t>(3 * m));
  T* a = buf.data();
  T* g = a + m;
  T* hh = g + m;
  for (std::ptrdiff_t i = 0; i < m; ++i) a[i] = in[std::clamp<std::ptrdiff_t>(i - r, 0, n - 1) * step];
  for (std::ptrdiff_t i = 0; i < m; ++i) g[i] = (i % k == 0) ? a[i] : std::max(g[i - 1], a[i]);
  for (std::ptrdiff_t i = m - 1; i >= 0; --i) hh[i] = (i % k == k - 1 || i == m - 1) ? a[i] : std::max(hh[i + 1], a[i]);
  for (std::ptrdiff_t i = 0; i < n; ++i) out[i * out_step] = std::max(hh[i], g[i + 2 * r]);
}

}  // namespace

template <class T>
std::vector<std::ptrdiff_t> peak_local_max(ImageView<const T> image, const PeakOptions& o) {
  detail::require_nonempty(image, "image");
  if (image.channels != 1)
    throw InvalidArgument("`image` must be 2-D (H, W); got shape " +
                          detail::shape_str(image.height, image.width, image.channels));
  if (o.min_distance < 0) throw InvalidArgument("`min_distance` must be >= 0; got " + std::to_string(o.min_distance));
  if (o.exclude_border < 0)
    throw InvalidArgument("`exclude_border` must be >= 0; got " + std::to_string(o.exclude_border));
  const std::ptrdiff_t h = image.height, w = image.width;
  // A distance of max(h, w) already spans the image (one window holds every pixel, every two pixels are closer
  // than it): larger ones give the same peaks, so clamp instead of sizing buffers and loops by the parameter.
  const std::ptrdiff_t r = std::min<std::ptrdiff_t>(o.min_distance, std::max(h, w));
  std::vector<std::uint8_t> cand(static_cast<std::size_t>(h * w), 0);
  if (r == 0 || h * w == 1) {
    for (std::ptrdiff_t y = 0; y < h; ++y)
      for (std::ptrdiff_t x = 0; x < w; ++x) cand[y * w + x] = double(image(y, x)) > o.threshold;
  } else {
    Image<T> rowmax(h, w, 1), mx(h, w, 1);
    parallel_for(h, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) {
      std::vector<T> buf;
      for (std::ptrdiff_t y = y0; y < y1; ++y) running_max(image.row(y), w, 1, r, rowmax.data() + y * w, 1, buf);
    }, 16);
    parallel_for(w, [&](std::ptrdiff_t x0, std::ptrdiff_t x1) {
      std::vector<T> buf;
      for (std::ptrdiff_t x = x0; x < x1; ++x) running_max(rowmax.data() + x, h, w, r, mx.data() + x, w, buf);
    }, 16);
    bool all = true;
    for (std::ptrdiff_t y = 0; y < h; ++y)
      for (std::ptrdiff_t x = 0; x < w; ++x) {
        const bool c = image(y, x) == mx(y, x);
        all = all && c;
        cand[y * w + x] = c && double(image(y, x)) > o.threshold;
      }
    if (all) std::fill(cand.begin(), cand.end(), 0);
  }
  const std::ptrdiff_t b = std::min<std::ptrdiff_t>(o.exclude_border, std::max(h, w));
  std::vector<std::ptrdiff_t> idx;
  for (std::ptrdiff_t y = b; y < h - b; ++y)
    for (std::ptrdiff_t x = b; x < w - b; ++x)
      if (cand[y * w + x]) idx.push_back(y * w + x);
  std::stable_sort(idx.begin(), idx.end(), [&](std::ptrdiff_t a, std::ptrdiff_t c) {
    return image(a / w, a % w) > image(c / w, c % w);
  });
  const std::size_t limit = o.num_peaks < 0 ? idx.size() : static_cast<std::size_t>(o.num_peaks);
  std::vector<std::ptrdiff_t> peaks;
  if (r <= 1) {  // scikit-image applies no spacing for min_distance <= 1
    for (std::size_t i = 0; i < idx.size() && i < limit; ++i) {
      peaks.push_back(idx[i] / w);
      peaks.push_back(idx[i] % w);
    }
    return peaks;
  }
  // Greedy spacing with a grid of cells of side r: a conflicting peak lies in the 3x3 cells around.
  const std::ptrdiff_t gh = (h + r - 1) / r, gw = (w + r - 1) / r;
  std::vector<std::vector<std::ptrdiff_t>> cells(static_cast<std::size_t>(gh * gw));
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < idx.size() && accepted < limit; ++i) {
    const std::ptrdiff_t y = idx[i] / w, x = idx[i] % w, cy = y / r, cx = x / r;
    bool ok = true;
    for (std::ptrdiff_t gy = std::max<std::ptrdiff_t>(0, cy - 1); ok && gy <= std::min(gh - 1, cy + 1); ++gy)
      for (std::ptrdiff_t gx = std::max<std::ptrdiff_t>(0, cx - 1); ok && gx <= std::min(gw - 1, cx + 1); ++gx)
        for (const std::ptrdiff_t p : cells[gy * gw + gx])
          if (std::max(std::abs(p / w - y), std::abs(p % w - x)) < r) {
            ok = false;
            break;
          }
    if (!ok) continue;
    cells[cy * gw + cx].push_back(idx[i]);
    peaks.push_back(y);
    peaks.push_back(x);
    ++accepted;
  }
  return peaks;
}

#define SEGEN_INSTANTIATE(T)                                                                                     \
  template SEGEN_API void watershed_into<T>(ImageView<const T>, ImageView<const std::int32_t>,                    \
                                            ImageView<const std::uint8_t>, ImageView<std::int32_t>,                \
                                            const WatershedOptions&);                                             \
  template SEGEN_API Image<std::int32_t> watershed<T>(ImageView<const T>, ImageView<const std::int32_t>,          \
                                                      ImageView<const std::uint8_t>, const WatershedOptions&);     \
  template SEGEN_API std::vector<std::ptrdiff_t> peak_local_max<T>(ImageView<const T>, const PeakOptions&);        \
  template SEGEN_API std::int32_t local_minima_into<T>(ImageView<const T>, ImageView<std::int32_t>, Connectivity);
SEGEN_FOR_PIXEL_TYPES(SEGEN_INSTANTIATE)
#undef SEGEN_INSTANTIATE

}  // namespace segen
