// Fused CPU kernels of the scalenet engine, registered into TensorFlow's op registry through TensorFlow's C
// kernel API (tensorflow/c/kernels.h, ops.h) and run by tfjs-node's eager binding like any TensorFlow op.
//
// Why: the profile of a supernet step on the native backend (bench/profile.ts) showed ~3 000 kernel calls per
// step, two thirds of them small element-wise ops (training batch norm, h-swish and its gradient, the SGD update
// of leading slices). Each costs a binding round trip and a full pass over an activation. These kernels do the
// same arithmetic in one pass (or two) per layer. Large tensors are split into fixed tasks over a small thread
// pool and per-channel sums are combined in task order, so results do not depend on the thread count.
//
// Built by infra/native-tf/ops.ts into the native cache entry; loaded by nn/native-ops.ts. As a Node addon its
// only export is the list of op names; registration happens once per process, when the first copy loads.
#include <node_api.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <immintrin.h>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tensorflow/c/kernels.h"
#include "tensorflow/c/ops.h"
#include "tensorflow/c/tf_status.h"
#include "tensorflow/c/tf_tensor.h"

namespace {

constexpr float kSixth = 1.0f / 6.0f;

// Rows summed in float before each addition to the double per-channel total: vector-width float adds in the
// inner loop, double accuracy across blocks; the order is fixed, so the result does not depend on the machine.
constexpr int64_t kBlockRows = 32;

// Work is cut into tasks of a fixed number of rows (never depending on the thread count); per-channel sums are
// kept per task and added up in task order. So a kernel's result is the same with 1 thread or 16.
constexpr int64_t kTaskRows = 512;

// A small persistent pool: the calling thread and `size() - 1` workers take tasks by index until none is left.
// Threads: SCALENET_KERNEL_THREADS, else TF_NUM_INTRAOP_THREADS (TensorFlow's own setting), else every core.
class Pool {
 public:
  static Pool& get() {
    static Pool* pool = new Pool(configured_threads());  // never destroyed: workers outlive static destruction
    return *pool;
  }

  // Runs fn(t) for every t in [0, n); returns when all calls have returned and no worker touches the job.
  void run(int64_t n, const std::function<void(int64_t)>& fn) {
    if (n <= 1 || workers_ == 0) {
      for (int64_t t = 0; t < n; t++) fn(t);
      return;
    }
    std::lock_guard<std::mutex> one_job(run_mu_);  // TensorFlow may call kernels from several threads
    Job job{&fn, n};
    bool sleeping;
    {
      std::lock_guard<std::mutex> lock(mu_);
      job_ = &job;
      generation_++;
      published_.store(generation_, std::memory_order_release);
      sleeping = sleepers_ > 0;
    }
    if (sleeping) wake_.notify_all();  // workers still spinning from the last job take this one without a wake-up
    const int64_t mine = drain(job);
    {
      std::lock_guard<std::mutex> lock(mu_);
      job.done += mine;
      if (job.done == job.n && job.active == 0) job.complete.store(true, std::memory_order_relaxed);
    }
    spin_until([&] { return job.complete.load(std::memory_order_acquire); });
    std::unique_lock<std::mutex> lock(mu_);
    finished_.wait(lock, [&] { return job.done == job.n && job.active == 0; });
    job_ = nullptr;
  }

 private:
  struct Job {
    const std::function<void(int64_t)>* fn;
    int64_t n;
    std::atomic<int64_t> next{0};
    int64_t done = 0;  // guarded by mu_
    int active = 0;    // workers inside drain(); guarded by mu_
    std::atomic<bool> complete{false};  // done == n && active == 0 was seen (set under mu_): the caller's spin reads it
  };

  // A wake-up costs tens of microseconds in a VM (a futex call and an inter-processor interrupt on each side), as
  // much as a small kernel's work, and the kernels come in bursts (a BN forward is three jobs back to back). So
  // both sides first spin for a while (~50 µs) on an atomic before sleeping, as OpenMP runtimes do.
  template <typename P>
  static void spin_until(P done) {
    for (int i = 0; i < kSpinIterations && !done(); i++) cpu_relax();
  }
  static void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  static constexpr int kSpinIterations = 1000;

  static int configured_threads() {
    for (const char* var : {"SCALENET_KERNEL_THREADS", "TF_NUM_INTRAOP_THREADS"}) {
      const char* v = std::getenv(var);
      if (v && std::atoi(v) > 0) return std::min(std::atoi(v), 64);
    }
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(std::min(hw, 64u));
  }

  explicit Pool(int threads) {
    for (int i = 1; i < threads; i++) std::thread([this] { loop(); }).detach();
    workers_ = threads - 1;
  }

  static int64_t drain(Job& job) {
    int64_t count = 0;
    for (int64_t t = job.next.fetch_add(1); t < job.n; t = job.next.fetch_add(1)) {
      (*job.fn)(t);
      count++;
    }
    return count;
  }

  void loop() {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mu_);
    const auto ready = [&] { return generation_ != seen && job_ != nullptr; };
    while (true) {
      if (!ready()) {
        lock.unlock();
        spin_until([&] { return published_.load(std::memory_order_acquire) != seen; });
        lock.lock();
        sleepers_++;
        wake_.wait(lock, ready);
        sleepers_--;
      }
      seen = generation_;
      Job& job = *job_;
      job.active++;
      lock.unlock();
      const int64_t mine = drain(job);
      lock.lock();
      job.done += mine;
      job.active--;
      if (job.done == job.n && job.active == 0) {
        job.complete.store(true, std::memory_order_release);
        finished_.notify_all();
      }
    }
  }

  int workers_ = 0;
  std::mutex run_mu_, mu_;
  std::condition_variable wake_, finished_;
  Job* job_ = nullptr;
  uint64_t generation_ = 0;                  // guarded by mu_
  std::atomic<uint64_t> published_{0};       // generation_'s last value, for spinning workers
  int sleepers_ = 0;                         // workers waiting on wake_; guarded by mu_
};

// Runs fn(r0, r1, task) over row tasks of kTaskRows rows; small tensors run inline (no hand-off cost).
template <typename F>
void for_row_tasks(int64_t rows, int64_t c, F fn) {
  const int64_t tasks = (rows + kTaskRows - 1) / kTaskRows;
  std::function<void(int64_t)> task = [&](int64_t t) { fn(t * kTaskRows, std::min(rows, (t + 1) * kTaskRows), t); };
  if (rows * c < (1 << 15)) {
    for (int64_t t = 0; t < tasks; t++) task(t);
  } else {
    Pool::get().run(tasks, task);
  }
}

// Per-channel sums over `rows` rows, `width` sums per channel: `add_rows(r0, r1, part)` adds rows [r0, r1) into the
// float partials `part` (c·width values, one block of at most kBlockRows rows); blocks are accumulated in double
// per task, and tasks are added up in task order.
template <typename F>
std::vector<double> channel_sums(int64_t rows, int64_t c, int64_t width, F add_rows) {
  const int64_t tasks = (rows + kTaskRows - 1) / kTaskRows;
  std::vector<double> per_task(static_cast<size_t>(tasks * c * width), 0.0);
  for_row_tasks(rows, c, [&](int64_t r0, int64_t r1, int64_t t) {
    std::vector<float> part(static_cast<size_t>(c * width));
    double* acc = per_task.data() + t * c * width;
    for (int64_t b0 = r0; b0 < r1; b0 += kBlockRows) {
      std::fill(part.begin(), part.end(), 0.0f);
      add_rows(b0, std::min(r1, b0 + kBlockRows), part.data());
      for (int64_t j = 0; j < c * width; j++) acc[j] += part[j];
    }
  });
  std::vector<double> total(static_cast<size_t>(c * width), 0.0);
  for (int64_t t = 0; t < tasks; t++)
    for (int64_t j = 0; j < c * width; j++) total[j] += per_task[t * c * width + j];
  return total;
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers around the C API.

struct Status {
  TF_Status* s = TF_NewStatus();
  ~Status() { TF_DeleteStatus(s); }
  bool ok() const { return TF_GetCode(s) == TF_OK; }
};

// An input tensor, released when the kernel returns.
struct Input {
  TF_Tensor* t = nullptr;
  ~Input() {
    if (t) TF_DeleteTensor(t);
  }
  const float* data() const { return static_cast<const float*>(TF_TensorData(t)); }
  int rank() const { return TF_NumDims(t); }
  int64_t dim(int i) const { return TF_Dim(t, i); }
  int64_t size() const { return TF_TensorElementCount(t); }
  std::vector<int64_t> dims() const {
    std::vector<int64_t> d(rank());
    for (int i = 0; i < rank(); i++) d[i] = dim(i);
    return d;
  }
};

// An output tensor, released (handed to TensorFlow) when the kernel returns.
struct Output {
  TF_Tensor* t = nullptr;
  ~Output() {
    if (t) TF_DeleteTensor(t);
  }
  float* data() const { return static_cast<float*>(TF_TensorData(t)); }
};

void fail(TF_OpKernelContext* ctx, const std::string& msg) {
  Status st;
  TF_SetStatus(st.s, TF_INVALID_ARGUMENT, msg.c_str());
  TF_OpKernelContext_Failure(ctx, st.s);
}

bool get(TF_OpKernelContext* ctx, int i, Input& in) {
  Status st;
  TF_GetInput(ctx, i, &in.t, st.s);
  if (!st.ok()) {
    TF_OpKernelContext_Failure(ctx, st.s);
    return false;
  }
  if (TF_TensorType(in.t) != TF_FLOAT) {
    fail(ctx, "scalenet ops take float32 tensors only (input " + std::to_string(i) + ")");
    return false;
  }
  return true;
}

bool alloc(TF_OpKernelContext* ctx, int i, const std::vector<int64_t>& dims, Output& out) {
  Status st;
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  out.t = TF_AllocateOutput(ctx, i, TF_FLOAT, dims.data(), static_cast<int>(dims.size()), n * sizeof(float), st.s);
  if (!st.ok()) {
    TF_OpKernelContext_Failure(ctx, st.s);
    return false;
  }
  return true;
}

// Attributes read at kernel construction (TensorFlow caches one kernel per distinct attribute set).
struct Attrs {
  bool hswish = false;
  int32_t stride = 1;
  float epsilon = 0;
  float alpha = 0;
  float count = 0;
};

void* create_attrs(TF_OpKernelConstruction* ctx, bool has_hswish, bool has_epsilon, bool has_alpha) {
  auto* a = new Attrs();
  Status st;
  if (has_hswish) {
    TF_Bool v = 0;
    TF_OpKernelConstruction_GetAttrBool(ctx, "hswish", &v, st.s);
    a->hswish = v != 0;
  }
  if (st.ok() && has_epsilon) TF_OpKernelConstruction_GetAttrFloat(ctx, "epsilon", &a->epsilon, st.s);
  if (st.ok() && has_alpha) TF_OpKernelConstruction_GetAttrFloat(ctx, "alpha", &a->alpha, st.s);
  if (!st.ok()) TF_OpKernelConstruction_Failure(ctx, st.s);
  return a;
}
void* create_bn(TF_OpKernelConstruction* ctx) { return create_attrs(ctx, true, true, false); }
void* create_act(TF_OpKernelConstruction* ctx) { return create_attrs(ctx, true, false, false); }
void* create_lerp(TF_OpKernelConstruction* ctx) { return create_attrs(ctx, false, false, true); }
void* create_none(TF_OpKernelConstruction* ctx) { return create_attrs(ctx, false, false, false); }
void* create_count(TF_OpKernelConstruction* ctx) {
  auto* a = static_cast<Attrs*>(create_attrs(ctx, false, false, false));
  Status st;
  TF_OpKernelConstruction_GetAttrFloat(ctx, "count", &a->count, st.s);
  if (!st.ok()) TF_OpKernelConstruction_Failure(ctx, st.s);
  return a;
}
void delete_attrs(void* p) { delete static_cast<Attrs*>(p); }
void* create_stride(TF_OpKernelConstruction* ctx) {
  auto* a = new Attrs();
  Status st;
  TF_OpKernelConstruction_GetAttrInt32(ctx, "stride", &a->stride, st.s);
  if (st.ok() && (a->stride < 1 || a->stride > 8)) TF_SetStatus(st.s, TF_INVALID_ARGUMENT, "stride must be 1 to 8");
  if (!st.ok()) TF_OpKernelConstruction_Failure(ctx, st.s);
  return a;
}

// h-sigmoid(u) = ReLU6(u + 3) / 6, h-swish(y) = y · h-sigmoid(y) and its derivative (0 below −3, 1 above 3,
// (2y + 3)/6 between), as the composite ops of nn/ops.ts compute them. Multiplying by 1/6 instead of dividing by 6
// (within an ulp of the composite ops; a division per element made these loops four times slower). Written as
// single selects so that GCC vectorizes the loops that use them (a nested ?: is not if-converted).
inline float hsigmoid(float u) {
  float r = u + 3.0f;
  r = r > 0.0f ? r : 0.0f;
  r = r < 6.0f ? r : 6.0f;
  return r * kSixth;
}
inline float hswish(float y) { return y * hsigmoid(y); }
inline float hswish_grad(float y) {
  float g = (2.0f * y + 3.0f) * kSixth;
  g = y > 3.0f ? 1.0f : g;
  return y < -3.0f ? 0.0f : g;
}

// Channels-last view: `rows` × `c`.
bool channels_last(TF_OpKernelContext* ctx, const Input& x, int64_t& rows, int64_t& c) {
  if (x.rank() < 1) {
    fail(ctx, "expected a tensor with a channel axis");
    return false;
  }
  c = x.dim(x.rank() - 1);
  rows = c == 0 ? 0 : x.size() / c;
  return true;
}

bool check_vec(TF_OpKernelContext* ctx, const Input& v, int64_t c, const char* name) {
  if (v.rank() != 1 || v.dim(0) != c) {
    fail(ctx, std::string(name) + " must be a vector of the channel count " + std::to_string(c));
    return false;
  }
  return true;
}

// The per-row loops of the kernels below live in small functions with restrict pointers: written inline in the
// kernels' lambdas, GCC either kept them scalar (it could not prove that a store leaves the other arrays alone) or
// versioned every row's loop with run-time alias checks, which cost as much as the work at 16–40 channels. The same
// float operations in the same order per channel: the bits do not change.

// z = act(x·scale + shift) for rows [r0, r1).
void affine_act_rows(const float* __restrict x, float* __restrict z, int64_t r0, int64_t r1, int64_t c, const float* __restrict scale,
                     const float* __restrict shift, bool act) {
  for (int64_t r = r0; r < r1; r++) {
    const float* __restrict xr = x + r * c;
    float* __restrict zr = z + r * c;
    if (act) {
      for (int64_t j = 0; j < c; j++) zr[j] = hswish(xr[j] * scale[j] + shift[j]);
    } else {
      for (int64_t j = 0; j < c; j++) zr[j] = xr[j] * scale[j] + shift[j];
    }
  }
}

// part[j] += Σ_r x[r, j] for rows [r0, r1), rows in order.
void sum_rows(const float* __restrict x, float* __restrict part, int64_t r0, int64_t r1, int64_t c) {
  for (int64_t r = r0; r < r1; r++) {
    const float* __restrict xr = x + r * c;
    for (int64_t j = 0; j < c; j++) part[j] += xr[j];
  }
}

// part[j] += Σ_r (x[r, j] − m[j])² for rows [r0, r1), rows in order.
void sum_sq_dev_rows(const float* __restrict x, const float* __restrict m, float* __restrict part, int64_t r0, int64_t r1, int64_t c) {
  for (int64_t r = r0; r < r1; r++) {
    const float* __restrict xr = x + r * c;
    for (int64_t j = 0; j < c; j++) {
      const float d = xr[j] - m[j];
      part[j] += d * d;
    }
  }
}

// z = act(x·scale + shift) per channel, over row tasks.
void affine_act(const float* xd, float* zd, int64_t rows, int64_t c, const float* scale, const float* shift, bool act) {
  for_row_tasks(rows, c, [&](int64_t r0, int64_t r1, int64_t) { affine_act_rows(xd, zd, r0, r1, c, scale, shift, act); });
}

// ---------------------------------------------------------------------------------------------------------------
// ScaleNetBnActTrain: z = act(γ·(x − μ_B)/√(σ²_B + ε) + β) with per-channel batch statistics over all leading
// axes; also returns μ_B and the biased σ²_B (for running averages and recalibration).

// The batch statistics of x [rows, c] and the per-channel affine map they give: mean and variance are written to
// the outputs 1 and 2, scale = γ/√(σ² + ε) and shift = β − μ·scale are returned. False when an input is wrong (the
// kernel has failed).
bool bn_batch_affine(TF_OpKernelContext* ctx, const Input& x, const Input& gamma, const Input& beta, float epsilon, int64_t& rows, int64_t& c,
                     std::vector<float>& scale, std::vector<float>& shift) {
  if (!channels_last(ctx, x, rows, c) || !check_vec(ctx, gamma, c, "gamma") || !check_vec(ctx, beta, c, "beta")) return false;
  Output mean, var;
  if (!alloc(ctx, 1, {c}, mean) || !alloc(ctx, 2, {c}, var)) return false;
  const float* xd = x.data();
  const int64_t cc = c;
  const std::vector<double> s = channel_sums(rows, c, 1, [&](int64_t r0, int64_t r1, float* part) { sum_rows(xd, part, r0, r1, cc); });
  std::vector<float> m(c);
  scale.resize(c);
  shift.resize(c);
  for (int64_t j = 0; j < c; j++) m[j] = static_cast<float>(s[j] / static_cast<double>(rows));
  const std::vector<double> s2 = channel_sums(rows, c, 1, [&](int64_t r0, int64_t r1, float* part) { sum_sq_dev_rows(xd, m.data(), part, r0, r1, cc); });
  const float* g = gamma.data();
  const float* b = beta.data();
  for (int64_t j = 0; j < c; j++) {
    const float v = static_cast<float>(s2[j] / static_cast<double>(rows));
    mean.data()[j] = m[j];
    var.data()[j] = v;
    const float inv = 1.0f / std::sqrt(v + epsilon);
    scale[j] = g[j] * inv;
    shift[j] = b[j] - m[j] * scale[j];
  }
  return true;
}

void bn_act_train(void* kernel, TF_OpKernelContext* ctx) {
  const auto* a = static_cast<Attrs*>(kernel);
  Input x, gamma, beta;
  if (!get(ctx, 0, x) || !get(ctx, 1, gamma) || !get(ctx, 2, beta)) return;
  int64_t rows, c;
  std::vector<float> scale, shift;
  Output z;
  if (!alloc(ctx, 0, x.dims(), z) || !bn_batch_affine(ctx, x, gamma, beta, a->epsilon, rows, c, scale, shift)) return;
  affine_act(x.data(), z.data(), rows, c, scale.data(), shift.data(), a->hswish);
}

// ScaleNetBnActTrainResidual: (x, γ, β, residual) → (residual + act(BN_batch(x)), μ_B, σ²_B) without a gradient
// (recalibration): ScaleNetBnActTrain and the residual add of the composite path (tf.add(residual, z)) in one pass.

void bn_act_residual_rows(const float* __restrict x, const float* __restrict res, float* __restrict z, int64_t r0, int64_t r1, int64_t c,
                          const float* __restrict scale, const float* __restrict shift, bool act) {
  for (int64_t r = r0; r < r1; r++) {
    const float* __restrict xr = x + r * c;
    const float* __restrict rr = res + r * c;
    float* __restrict zr = z + r * c;
    if (act) {
      for (int64_t j = 0; j < c; j++) zr[j] = rr[j] + hswish(xr[j] * scale[j] + shift[j]);
    } else {
      for (int64_t j = 0; j < c; j++) zr[j] = rr[j] + (xr[j] * scale[j] + shift[j]);
    }
  }
}

void bn_act_train_residual(void* kernel, TF_OpKernelContext* ctx) {
  const auto* a = static_cast<Attrs*>(kernel);
  Input x, gamma, beta, res;
  if (!get(ctx, 0, x) || !get(ctx, 1, gamma) || !get(ctx, 2, beta) || !get(ctx, 3, res)) return;
  if (res.dims() != x.dims()) return fail(ctx, "residual and x differ in shape");
  int64_t rows, c;
  std::vector<float> scale, shift;
  Output z;
  if (!alloc(ctx, 0, x.dims(), z) || !bn_batch_affine(ctx, x, gamma, beta, a->epsilon, rows, c, scale, shift)) return;
  const float *xd = x.data(), *rd = res.data();
  float* zd = z.data();
  for_row_tasks(rows, c, [&](int64_t r0, int64_t r1, int64_t) { bn_act_residual_rows(xd, rd, zd, r0, r1, c, scale.data(), shift.data(), a->hswish); });
}

// ScaleNetBnActTrainGrad: (dz, x, γ, β, μ_B, σ²_B) → (dx, dγ, dβ), the standard batch-norm backward through the
// batch statistics, preceded by the h-swish derivative when the forward applied it.

// The backward's second pass for rows [r0, r1): dx = k·(n·dy − Σdy − x̂·Σ(dy·x̂)), dy read from dx's buffer.
void bn_grad_dx_rows(const float* __restrict x, float* __restrict dx, int64_t r0, int64_t r1, int64_t c, const float* __restrict m,
                     const float* __restrict inv, const float* __restrict k, const float* __restrict fs, const float* __restrict fsx, float n) {
  for (int64_t r = r0; r < r1; r++) {
    const float* __restrict xr = x + r * c;
    float* __restrict dr = dx + r * c;
    for (int64_t j = 0; j < c; j++) {
      const float xh = (xr[j] - m[j]) * inv[j];
      dr[j] = k[j] * (n * dr[j] - fs[j] - xh * fsx[j]);
    }
  }
}

// One row of the backward's first pass: dy = dz · act'(y) into dy, and its per-channel sums into pdy (Σdy) and
// pdyx (Σ dy·x̂). (Inside the kernel's lambda this loop stayed scalar.)
inline void bn_grad_row(const float* __restrict dz, const float* __restrict x, float* __restrict dy, float* __restrict pdy,
                        float* __restrict pdyx, const float* __restrict scale, const float* __restrict shift,
                        const float* __restrict m, const float* __restrict inv, int64_t c, bool act) {
  if (act) {
    for (int64_t j = 0; j < c; j++) {
      const float d = dz[j] * hswish_grad(x[j] * scale[j] + shift[j]);
      dy[j] = d;
      pdy[j] += d;
      pdyx[j] += d * ((x[j] - m[j]) * inv[j]);
    }
  } else {
    for (int64_t j = 0; j < c; j++) {
      const float d = dz[j];
      dy[j] = d;
      pdy[j] += d;
      pdyx[j] += d * ((x[j] - m[j]) * inv[j]);
    }
  }
}

void bn_act_train_grad(void* kernel, TF_OpKernelContext* ctx) {
  const auto* a = static_cast<Attrs*>(kernel);
  Input dz, x, gamma, beta, mean, var;
  if (!get(ctx, 0, dz) || !get(ctx, 1, x) || !get(ctx, 2, gamma) || !get(ctx, 3, beta) || !get(ctx, 4, mean) || !get(ctx, 5, var)) return;
  int64_t rows, c;
  if (!channels_last(ctx, x, rows, c) || !check_vec(ctx, gamma, c, "gamma") || !check_vec(ctx, beta, c, "beta") ||
      !check_vec(ctx, mean, c, "mean") || !check_vec(ctx, var, c, "variance")) return;
  if (dz.size() != x.size()) return fail(ctx, "dz and x differ in size");
  Output dx, dgamma, dbeta;
  if (!alloc(ctx, 0, x.dims(), dx) || !alloc(ctx, 1, {c}, dgamma) || !alloc(ctx, 2, {c}, dbeta)) return;
  const float *xd = x.data(), *dzd = dz.data(), *g = gamma.data(), *b = beta.data(), *m = mean.data(), *v = var.data();
  std::vector<float> inv(c), scale(c), shift(c);
  for (int64_t j = 0; j < c; j++) {
    inv[j] = 1.0f / std::sqrt(v[j] + a->epsilon);
    scale[j] = g[j] * inv[j];
    shift[j] = b[j] - m[j] * scale[j];
  }
  // dy = dz · act'(y); Σdy and Σ dy·x̂ per channel.
  float* dxd = dx.data();
  // part[j] accumulates Σdy, part[c + j] Σ dy·x̂.
  const std::vector<double> sums = channel_sums(rows, c, 2, [&](int64_t r0, int64_t r1, float* part) {
    for (int64_t r = r0; r < r1; r++) {
      // dy parked in dx's buffer until the second pass
      bn_grad_row(dzd + r * c, xd + r * c, dxd + r * c, part, part + c, scale.data(), shift.data(), m, inv.data(), c, a->hswish);
    }
  });
  // dx = γ·inv/M · (M·dy − Σdy − x̂·Σ(dy·x̂))
  const float n = static_cast<float>(rows);
  std::vector<float> k(c), fs(c), fsx(c);
  for (int64_t j = 0; j < c; j++) {
    k[j] = scale[j] / n;
    fs[j] = static_cast<float>(sums[j]);
    fsx[j] = static_cast<float>(sums[c + j]);
    dgamma.data()[j] = fsx[j];
    dbeta.data()[j] = fs[j];
  }
  for_row_tasks(rows, c, [&](int64_t r0, int64_t r1, int64_t) {
    bn_grad_dx_rows(xd, dxd, r0, r1, c, m, inv.data(), k.data(), fs.data(), fsx.data(), n);
  });
}

// ScaleNetBiasAct: z = act(x + bias), per channel (inference with BN folded into the conv).

void bias_act(void* kernel, TF_OpKernelContext* ctx) {
  const auto* a = static_cast<Attrs*>(kernel);
  Input x, bias;
  if (!get(ctx, 0, x) || !get(ctx, 1, bias)) return;
  int64_t rows, c;
  if (!channels_last(ctx, x, rows, c) || !check_vec(ctx, bias, c, "bias")) return;
  Output z;
  if (!alloc(ctx, 0, x.dims(), z)) return;
  // x·1 + b is exactly x + b in IEEE arithmetic: the BN kernel's pass serves as it is.
  const std::vector<float> ones(static_cast<size_t>(c), 1.0f);
  affine_act(x.data(), z.data(), rows, c, ones.data(), bias.data(), a->hswish);
}

// ScaleNetBiasResidual: z = r + (x + bias) per channel: a block's projection (BN folded, no activation) and its
// residual add in one pass, exactly the two additions the composite path makes (bias add, then tf.add(input, y)).

void bias_residual_rows(const float* __restrict x, const float* __restrict bias, const float* __restrict res, float* __restrict z,
                        int64_t r0, int64_t r1, int64_t c) {
  for (int64_t r = r0; r < r1; r++) {
    const float* __restrict xr = x + r * c;
    const float* __restrict rr = res + r * c;
    float* __restrict zr = z + r * c;
    for (int64_t j = 0; j < c; j++) {
      const float y = xr[j] + bias[j];
      zr[j] = rr[j] + y;
    }
  }
}

void bias_residual(void*, TF_OpKernelContext* ctx) {
  Input x, bias, res;
  if (!get(ctx, 0, x) || !get(ctx, 1, bias) || !get(ctx, 2, res)) return;
  int64_t rows, c;
  if (!channels_last(ctx, x, rows, c) || !check_vec(ctx, bias, c, "bias")) return;
  if (res.dims() != x.dims()) return fail(ctx, "residual and x differ in shape");
  Output z;
  if (!alloc(ctx, 0, x.dims(), z)) return;
  const float *xd = x.data(), *bd = bias.data(), *rd = res.data();
  float* zd = z.data();
  for_row_tasks(rows, c, [&](int64_t r0, int64_t r1, int64_t) { bias_residual_rows(xd, bd, rd, zd, r0, r1, c); });
}

// ScaleNetMomentSums / ScaleNetMomentSumsAdd: BN recalibration's running sums of one layer,
// s1 = mean·count and s2 = (variance + mean²)·count (count: the layer's N·H·W, a float32 attribute as the scalar
// tensor of the composite path is), added to the previous sums (…Add). The float32 operations of the composite
// path (mul, square, add, mul, add), element by element: one kernel call instead of six.

void moment_sums(void* kernel, TF_OpKernelContext* ctx, bool add) {
  const int base = add ? 2 : 0;
  Input prev1, prev2, mean, var;
  if (add && (!get(ctx, 0, prev1) || !get(ctx, 1, prev2))) return;
  if (!get(ctx, base, mean) || !get(ctx, base + 1, var)) return;
  const int64_t c = mean.size();
  if (var.size() != c || (add && (prev1.size() != c || prev2.size() != c))) {
    return fail(ctx, "moment sums: mean, variance (and the previous sums) must have the same size");
  }
  Output s1, s2;
  if (!alloc(ctx, 0, {c}, s1) || !alloc(ctx, 1, {c}, s2)) return;
  const float n = static_cast<Attrs*>(kernel)->count;
  const float *m = mean.data(), *v = var.data();
  for (int64_t j = 0; j < c; j++) {
    const float a = m[j] * n;
    const float sq = m[j] * m[j];
    const float b = (v[j] + sq) * n;
    s1.data()[j] = add ? prev1.data()[j] + a : a;
    s2.data()[j] = add ? prev2.data()[j] + b : b;
  }
}
void moment_sums_first(void* kernel, TF_OpKernelContext* ctx) { moment_sums(kernel, ctx, false); }
void moment_sums_add(void* kernel, TF_OpKernelContext* ctx) { moment_sums(kernel, ctx, true); }

// Mean over the hw pixels of one NHWC image (hw × c) per channel, summed in double: out[j] for j < c.
void image_channel_mean(const float* xi, int64_t hw, int64_t c, float* out) {
  std::vector<double> acc(static_cast<size_t>(c), 0.0);
  for (int64_t p = 0; p < hw; p++)
    for (int64_t j = 0; j < c; j++) acc[j] += xi[p * c + j];
  for (int64_t j = 0; j < c; j++) out[j] = static_cast<float>(acc[j] / static_cast<double>(hw));
}

// ScaleNetSpatialMean: [N, H, W, C] → [N, C], the mean over H and W (SE squeeze, global pooling).

void spatial_mean(void*, TF_OpKernelContext* ctx) {
  Input x;
  if (!get(ctx, 0, x)) return;
  if (x.rank() != 4) return fail(ctx, "spatial mean expects [N, H, W, C]");
  const int64_t n = x.dim(0), hw = x.dim(1) * x.dim(2), c = x.dim(3);
  Output y;
  if (!alloc(ctx, 0, {n, c}, y)) return;
  // Images are independent (each one's sum is in pixel order): split over the pool when there is enough work.
  const auto image = [&](int64_t i) { image_channel_mean(x.data() + i * hw * c, hw, c, y.data() + i * c); };
  if (n * hw * c < (1 << 15)) {
    for (int64_t i = 0; i < n; i++) image(i);
  } else {
    Pool::get().run(n, image);
  }
}

// ScaleNetSpatialMeanGrad: (dy [N, C], x [N, H, W, C]) → dx = dy / (H·W) broadcast over H and W.

void spatial_mean_grad(void*, TF_OpKernelContext* ctx) {
  Input dy, x;
  if (!get(ctx, 0, dy) || !get(ctx, 1, x)) return;
  if (x.rank() != 4 || dy.rank() != 2 || dy.dim(0) != x.dim(0) || dy.dim(1) != x.dim(3)) return fail(ctx, "spatial mean gradient: shapes of dy and x disagree");
  const int64_t n = x.dim(0), hw = x.dim(1) * x.dim(2), c = x.dim(3);
  Output dx;
  if (!alloc(ctx, 0, x.dims(), dx)) return;
  const float inv = 1.0f / static_cast<float>(hw);
  const auto image = [&](int64_t i) {
    const float* d = dy.data() + i * c;
    float* o = dx.data() + i * hw * c;
    for (int64_t p = 0; p < hw; p++)
      for (int64_t j = 0; j < c; j++) o[p * c + j] = d[j] * inv;
  };
  if (n * hw * c < (1 << 15)) {
    for (int64_t i = 0; i < n; i++) image(i);
  } else {
    Pool::get().run(n, image);
  }
}

// Squeeze-excite in one kernel per direction:
// y = x · h-sigmoid(ReLU(mean_HW(x)·w1 + b1)·w2 + b2), x [N, H, W, C], w1 [C, S], b1 [S], w2 [S, C], b2 [C].
// Composed of stock ops it is eleven kernel calls forward and ~25 backward per block (tfjs-node's ReLU/ReLU6
// gradients alone are five each), most of them on [N, C]-sized tensors.
//   ScaleNetSeInfer: (x, w1, b1, w2, b2) → y.
//   ScaleNetSeTrain: the same, plus what the gradient needs: s = mean_HW(x) [N, C], hpre [N, S], gpre [N, C].
//   ScaleNetSeTrainGrad: (dy, x, w1, w2, s, hpre, gpre) → (dx, dw1, db1, dw2, db2).
// Images are independent tasks; the weight gradients are summed over images in order afterwards.

struct SeShapes {
  int64_t n, hw, c, se;
};

// The shapes of a squeeze-excite over an activation [n, hw (pixels), c] with weights w1 [c, S] and w2 [S, c].
bool se_weight_shapes(TF_OpKernelContext* ctx, int64_t n, int64_t hw, int64_t c, const Input& w1, const Input& w2, SeShapes& sh) {
  if (w1.rank() != 2 || w2.rank() != 2) {
    fail(ctx, "squeeze-excite expects w1 [C, S], w2 [S, C]");
    return false;
  }
  sh = {n, hw, c, w1.dim(1)};
  if (w1.dim(0) != sh.c || w2.dim(0) != sh.se || w2.dim(1) != sh.c) {
    fail(ctx, "squeeze-excite weights do not match the channel count " + std::to_string(sh.c));
    return false;
  }
  return true;
}

bool se_shapes(TF_OpKernelContext* ctx, const Input& x, const Input& w1, const Input& w2, SeShapes& sh) {
  if (x.rank() != 4) {
    fail(ctx, "squeeze-excite expects x [N, H, W, C], w1 [C, S], w2 [S, C]");
    return false;
  }
  return se_weight_shapes(ctx, x.dim(0), x.dim(1) * x.dim(2), x.dim(3), w1, w2, sh);
}

// The mask of h-sigmoid's ReLU6 gradient as tfjs defines it (0 < u + 3 ≤ 6).
inline float hsigmoid_mask(float u) { return (u + 3.0f > 0.0f && u + 3.0f <= 6.0f) ? 1.0f : 0.0f; }

// Row loops of squeeze-excite (restrict pointers, see affine_act_rows).
void bias_hswish_rows(const float* __restrict x, const float* __restrict bias, float* __restrict y, int64_t rows, int64_t c) {
  for (int64_t p = 0; p < rows; p++)
    for (int64_t j = 0; j < c; j++) y[p * c + j] = hswish(x[p * c + j] + bias[j]);
}
void scale_rows(const float* __restrict x, const float* __restrict gate, float* __restrict y, int64_t rows, int64_t c) {
  for (int64_t p = 0; p < rows; p++)
    for (int64_t j = 0; j < c; j++) y[p * c + j] = x[p * c + j] * gate[j];
}
void scale_rows_in_place(float* __restrict y, const float* __restrict gate, int64_t rows, int64_t c) {
  for (int64_t p = 0; p < rows; p++)
    for (int64_t j = 0; j < c; j++) y[p * c + j] = y[p * c + j] * gate[j];
}
// dx = dy·gate + ds per channel (the squeeze-excite backward's last pass).
void scale_add_rows(const float* __restrict dy, const float* __restrict gate, const float* __restrict ds, float* __restrict dx, int64_t rows,
                    int64_t c) {
  for (int64_t p = 0; p < rows; p++)
    for (int64_t j = 0; j < c; j++) dx[p * c + j] = dy[p * c + j] * gate[j] + ds[j];
}

// Forward of image i: fills s, hpre, gpre (each for this image) and writes y = x · gate. With `bias`, x is first
// replaced by h-swish(x + bias) (ScaleNetBiasAct's values, written to y and scaled there in place).
void se_forward_image(const SeShapes& sh, const float* xi, const float* w1, const float* b1, const float* w2, const float* b2,
                      float* s, float* hpre, float* gpre, float* yi, const float* bias = nullptr) {
  const int64_t hw = sh.hw, c = sh.c, se = sh.se;
  if (bias) bias_hswish_rows(xi, bias, yi, hw, c);
  image_channel_mean(bias ? yi : xi, hw, c, s);
  std::vector<float> hidden(static_cast<size_t>(se), 0.0f), gate(static_cast<size_t>(c), 0.0f);
  for (int64_t j = 0; j < c; j++)
    for (int64_t k = 0; k < se; k++) hidden[k] += s[j] * w1[j * se + k];
  for (int64_t k = 0; k < se; k++) {
    hpre[k] = hidden[k] + b1[k];
    hidden[k] = hpre[k] > 0.0f ? hpre[k] : 0.0f;
  }
  for (int64_t k = 0; k < se; k++)
    for (int64_t j = 0; j < c; j++) gate[j] += hidden[k] * w2[k * c + j];
  for (int64_t j = 0; j < c; j++) {
    gpre[j] = gate[j] + b2[j];
    gate[j] = hsigmoid(gpre[j]);
  }
  if (bias) {
    scale_rows_in_place(yi, gate.data(), hw, c);  // y holds h-swish(x + bias)
  } else {
    scale_rows(xi, gate.data(), yi, hw, c);
  }
}

void se_forward(TF_OpKernelContext* ctx, bool training) {
  Input x, w1, b1, w2, b2;
  if (!get(ctx, 0, x) || !get(ctx, 1, w1) || !get(ctx, 2, b1) || !get(ctx, 3, w2) || !get(ctx, 4, b2)) return;
  SeShapes sh;
  if (!se_shapes(ctx, x, w1, w2, sh)) return;
  if (b1.size() != sh.se || b2.size() != sh.c) return fail(ctx, "squeeze-excite biases do not match the weights");
  Output y, s, hpre, gpre;
  if (!alloc(ctx, 0, x.dims(), y)) return;
  std::vector<float> scratch;
  float *sd, *hd, *gd;
  if (training) {
    if (!alloc(ctx, 1, {sh.n, sh.c}, s) || !alloc(ctx, 2, {sh.n, sh.se}, hpre) || !alloc(ctx, 3, {sh.n, sh.c}, gpre)) return;
    sd = s.data(), hd = hpre.data(), gd = gpre.data();
  } else {
    scratch.resize(static_cast<size_t>(sh.n * (2 * sh.c + sh.se)));
    sd = scratch.data(), gd = sd + sh.n * sh.c, hd = gd + sh.n * sh.c;
  }
  Pool::get().run(sh.n, [&](int64_t i) {
    se_forward_image(sh, x.data() + i * sh.hw * sh.c, w1.data(), b1.data(), w2.data(), b2.data(),
                     sd + i * sh.c, hd + i * sh.se, gd + i * sh.c, y.data() + i * sh.hw * sh.c);
  });
}

void se_infer(void*, TF_OpKernelContext* ctx) { se_forward(ctx, false); }

// ScaleNetBiasActSeInfer: (x, bias, w1, b1, w2, b2) → squeeze-excite of h-swish(x + bias), inference: a depthwise
// conv's folded BN, activation and squeeze-excite in one pass per image (the image stays in cache between them)
// instead of two kernels with a full activation written and read back in between. The same float operations as
// ScaleNetBiasAct followed by ScaleNetSeInfer.

void bias_act_se_infer(void*, TF_OpKernelContext* ctx) {
  Input x, bias, w1, b1, w2, b2;
  if (!get(ctx, 0, x) || !get(ctx, 1, bias) || !get(ctx, 2, w1) || !get(ctx, 3, b1) || !get(ctx, 4, w2) || !get(ctx, 5, b2)) return;
  SeShapes sh;
  if (!se_shapes(ctx, x, w1, w2, sh)) return;
  if (!check_vec(ctx, bias, sh.c, "bias")) return;
  if (b1.size() != sh.se || b2.size() != sh.c) return fail(ctx, "squeeze-excite biases do not match the weights");
  Output y;
  if (!alloc(ctx, 0, x.dims(), y)) return;
  std::vector<float> scratch(static_cast<size_t>(sh.n * (2 * sh.c + sh.se)));
  float* sd = scratch.data();
  float* gd = sd + sh.n * sh.c;
  float* hd = gd + sh.n * sh.c;
  Pool::get().run(sh.n, [&](int64_t i) {
    se_forward_image(sh, x.data() + i * sh.hw * sh.c, w1.data(), b1.data(), w2.data(), b2.data(), sd + i * sh.c, hd + i * sh.se,
                     gd + i * sh.c, y.data() + i * sh.hw * sh.c, bias.data());
  });
}
// ScaleNetBnActSeInfer: (x, γ, β, w1, b1, w2, b2) → (squeeze-excite of act(BN_batch(x)), μ_B, σ²_B) without a
// gradient (recalibration): a depthwise conv's batch-statistics BN, h-swish and squeeze-excite, the last two per
// image while it is in cache; ScaleNetBnActTrain's and ScaleNetSeInfer's float operations.

void bn_act_se_infer(void* kernel, TF_OpKernelContext* ctx) {
  const auto* a = static_cast<Attrs*>(kernel);
  Input x, gamma, beta, w1, b1, w2, b2;
  if (!get(ctx, 0, x) || !get(ctx, 1, gamma) || !get(ctx, 2, beta) || !get(ctx, 3, w1) || !get(ctx, 4, b1) || !get(ctx, 5, w2) ||
      !get(ctx, 6, b2)) return;
  SeShapes sh;
  if (!se_shapes(ctx, x, w1, w2, sh)) return;
  if (b1.size() != sh.se || b2.size() != sh.c) return fail(ctx, "squeeze-excite biases do not match the weights");
  int64_t rows, c;
  std::vector<float> scale, shift;
  Output y;
  if (!alloc(ctx, 0, x.dims(), y) || !bn_batch_affine(ctx, x, gamma, beta, a->epsilon, rows, c, scale, shift)) return;
  std::vector<float> scratch(static_cast<size_t>(sh.n * (2 * sh.c + sh.se)));
  float* sd = scratch.data();
  float* gd = sd + sh.n * sh.c;
  float* hd = gd + sh.n * sh.c;
  Pool::get().run(sh.n, [&](int64_t i) {
    thread_local std::vector<float> z;  // this image's activation, in cache for the squeeze-excite
    z.resize(static_cast<size_t>(sh.hw * sh.c));
    affine_act_rows(x.data() + i * sh.hw * sh.c, z.data(), 0, sh.hw, sh.c, scale.data(), shift.data(), a->hswish);
    se_forward_image(sh, z.data(), w1.data(), b1.data(), w2.data(), b2.data(), sd + i * sh.c, hd + i * sh.se, gd + i * sh.c,
                     y.data() + i * sh.hw * sh.c);
  });
}

void se_train(void*, TF_OpKernelContext* ctx) { se_forward(ctx, true); }

void se_train_grad(void*, TF_OpKernelContext* ctx) {
  Input dy, x, w1, w2, s, hpre, gpre;
  if (!get(ctx, 0, dy) || !get(ctx, 1, x) || !get(ctx, 2, w1) || !get(ctx, 3, w2) || !get(ctx, 4, s) || !get(ctx, 5, hpre) ||
      !get(ctx, 6, gpre)) return;
  SeShapes sh;
  if (!se_shapes(ctx, x, w1, w2, sh)) return;
  const int64_t n = sh.n, hw = sh.hw, c = sh.c, se = sh.se;
  if (dy.size() != x.size() || s.size() != n * c || hpre.size() != n * se || gpre.size() != n * c) {
    return fail(ctx, "squeeze-excite gradient: saved tensors do not match x");
  }
  Output dx, dw1, db1, dw2, db2;
  if (!alloc(ctx, 0, x.dims(), dx) || !alloc(ctx, 1, {c, se}, dw1) || !alloc(ctx, 2, {se}, db1) || !alloc(ctx, 3, {se, c}, dw2) ||
      !alloc(ctx, 4, {c}, db2)) return;
  const float *w1d = w1.data(), *w2d = w2.data(), *sd = s.data(), *hd = hpre.data(), *gd = gpre.data();
  std::vector<float> dgpre(static_cast<size_t>(n * c)), dhpre(static_cast<size_t>(n * se));
  Pool::get().run(n, [&](int64_t i) {
    const float* xi = x.data() + i * hw * c;
    const float* dyi = dy.data() + i * hw * c;
    const float* g = gd + i * c;
    // dgate = Σ_HW dy·x; through h-sigmoid: (dgate / 6)·mask.
    std::vector<double> acc(static_cast<size_t>(c), 0.0);
    for (int64_t p = 0; p < hw; p++)
      for (int64_t j = 0; j < c; j++) acc[j] += static_cast<double>(dyi[p * c + j]) * xi[p * c + j];
    float* dg = dgpre.data() + i * c;
    for (int64_t j = 0; j < c; j++) dg[j] = static_cast<float>(acc[j]) * kSixth * hsigmoid_mask(g[j]);
    // Through FC2 and ReLU to the hidden pre-activation, then through FC1 to the squeezed means.
    float* dh = dhpre.data() + i * se;
    const float* h = hd + i * se;
    for (int64_t k = 0; k < se; k++) {
      float v = 0.0f;
      for (int64_t j = 0; j < c; j++) v += dg[j] * w2d[k * c + j];
      dh[k] = h[k] > 0.0f ? v : 0.0f;
    }
    std::vector<float> ds(static_cast<size_t>(c), 0.0f), gate(static_cast<size_t>(c));
    for (int64_t j = 0; j < c; j++) {
      float v = 0.0f;
      for (int64_t k = 0; k < se; k++) v += dh[k] * w1d[j * se + k];
      ds[j] = v / static_cast<float>(hw);
      gate[j] = hsigmoid(g[j]);
    }
    // dx = dy·gate (the scaling) + ds / (H·W) (the mean).
    scale_add_rows(dyi, gate.data(), ds.data(), dx.data() + i * hw * c, hw, c);
  });
  // Weight and bias gradients, each element summed over images in order (image 0 first, as one thread would);
  // the rows of dw2 (with db1) and of dw1 (with db2) are independent tasks, so any thread count gives these bits.
  float *dw1d = dw1.data(), *db1d = db1.data(), *dw2d = dw2.data(), *db2d = db2.data();
  std::fill(dw1d, dw1d + c * se, 0.0f);
  std::fill(db1d, db1d + se, 0.0f);
  std::fill(dw2d, dw2d + se * c, 0.0f);
  std::fill(db2d, db2d + c, 0.0f);
  const auto fc2_row = [&](int64_t k) {  // dw2[k, :] and db1[k]
    float* row = dw2d + k * c;
    for (int64_t i = 0; i < n; i++) {
      const float hk = hd[i * se + k] > 0.0f ? hd[i * se + k] : 0.0f;
      const float* dg = dgpre.data() + i * c;
      for (int64_t j = 0; j < c; j++) row[j] += hk * dg[j];
      db1d[k] += dhpre[i * se + k];
    }
  };
  const auto fc1_row = [&](int64_t j) {  // dw1[j, :] and db2[j]
    float* row = dw1d + j * se;
    for (int64_t i = 0; i < n; i++) {
      const float sij = sd[i * c + j];
      const float* dh = dhpre.data() + i * se;
      db2d[j] += dgpre[i * c + j];
      for (int64_t k = 0; k < se; k++) row[k] += sij * dh[k];
    }
  };
  if (n * c * se < (1 << 15)) {
    for (int64_t k = 0; k < se; k++) fc2_row(k);
    for (int64_t j = 0; j < c; j++) fc1_row(j);
  } else {
    Pool::get().run(se + c, [&](int64_t t) { t < se ? fc2_row(t) : fc1_row(t - se); });
  }
}

// Calls f(full_offset, slice_offset, run) for each contiguous run of the leading corner `slice` of a tensor of
// shape `full` (row-major). Returns false when the corner does not fit.
template <typename F>
bool for_leading_corner(const std::vector<int64_t>& full, const std::vector<int64_t>& slice, F f) {
  const size_t r = full.size();
  if (slice.size() != r) return false;
  for (size_t i = 0; i < r; i++)
    if (slice[i] > full[i] || slice[i] < 0) return false;
  int64_t count = 1;
  for (int64_t d : slice) count *= d;
  if (count == 0) return true;
  if (r == 0) {
    f(0, 0, 1);
    return true;
  }
  std::vector<int64_t> stride(r, 1);
  for (size_t i = r - 1; i > 0; i--) stride[i - 1] = stride[i] * full[i];
  const int64_t run = slice[r - 1];
  std::vector<int64_t> idx(r, 0);
  int64_t s = 0;
  while (true) {
    int64_t off = 0;
    for (size_t i = 0; i + 1 < r; i++) off += idx[i] * stride[i];
    f(off, s, run);
    s += run;
    // advance the outer index (all but the last axis)
    size_t i = r - 1;
    while (i > 0) {
      i--;
      if (++idx[i] < slice[i]) break;
      idx[i] = 0;
      if (i == 0) return true;
    }
    if (r == 1) return true;
  }
}

// ScaleNetSgdLeading: one SGD step (Nesterov optional, weight decay) on the leading corner of a shared tensor.
// Inputs: param (full), momentum (full), grad (the corner's shape), hyper [lr, momentum, weight decay, nesterov].
// Outputs: the new param and momentum (full; outside the corner bit-identical copies).
// g' = g + wd·w;  m' = μ·m + g';  u = nesterov ? g' + μ·m' : m';  w' = w − lr·u   (float32, as nn/step.ts).

void sgd_leading(void*, TF_OpKernelContext* ctx) {
  Input param, mom, grad, hyper;
  if (!get(ctx, 0, param) || !get(ctx, 1, mom) || !get(ctx, 2, grad) || !get(ctx, 3, hyper)) return;
  if (hyper.size() != 4) return fail(ctx, "hyper must be [learning rate, momentum, weight decay, nesterov]");
  if (param.dims() != mom.dims()) return fail(ctx, "param and momentum differ in shape");
  Output p2, m2;
  if (!alloc(ctx, 0, param.dims(), p2) || !alloc(ctx, 1, mom.dims(), m2)) return;
  std::memcpy(p2.data(), param.data(), param.size() * sizeof(float));
  std::memcpy(m2.data(), mom.data(), mom.size() * sizeof(float));
  const float lr = hyper.data()[0], mu = hyper.data()[1], wd = hyper.data()[2];
  const bool nesterov = hyper.data()[3] != 0.0f;
  const float* gd = grad.data();
  float *pd = p2.data(), *md = m2.data();
  const bool ok = for_leading_corner(param.dims(), grad.dims(), [&](int64_t off, int64_t s, int64_t run) {
    for (int64_t j = 0; j < run; j++) {
      const float w = pd[off + j];
      const float g = wd != 0.0f ? gd[s + j] + w * wd : gd[s + j];
      const float m = md[off + j] * mu + g;
      const float u = nesterov ? g + m * mu : m;
      pd[off + j] = w - u * lr;
      md[off + j] = m;
    }
  });
  if (!ok) fail(ctx, "grad is not a leading corner of param");
}

// ScaleNetLerpLeading: full[corner] = full[corner]·(1 − α) + value·α (BN running averages of the used channels).

void lerp_leading(void* kernel, TF_OpKernelContext* ctx) {
  const auto* a = static_cast<Attrs*>(kernel);
  Input full, value;
  if (!get(ctx, 0, full) || !get(ctx, 1, value)) return;
  Output out;
  if (!alloc(ctx, 0, full.dims(), out)) return;
  std::memcpy(out.data(), full.data(), full.size() * sizeof(float));
  const float keep = 1.0f - a->alpha, alpha = a->alpha;
  const float* vd = value.data();
  float* od = out.data();
  const bool ok = for_leading_corner(full.dims(), value.dims(), [&](int64_t off, int64_t s, int64_t run) {
    for (int64_t j = 0; j < run; j++) od[off + j] = od[off + j] * keep + vd[s + j] * alpha;
  });
  if (!ok) fail(ctx, "value is not a leading corner of full");
}

// ---------------------------------------------------------------------------------------------------------------
// ScaleNetPointwise / ScaleNetPointwiseBiasAct / ScaleNetPointwiseBiasResidual: a 1×1 convolution with stride 1
// (NHWC x [n, h, w, k], filter [1, 1, k, c]) as the product of the rows of x with the filter, optionally followed by
// the folded BN's bias, h-swish or the residual add in the same pass (the epilogue works on registers, so the
// product is never written and read back as a separate activation).
//
// Why not TensorFlow's Conv2D: at the search's sizes each oneDNN call hands its work to the intra-op pool and waits
// for it (a futex wake-up per call in a VM), and the product leaves the cache before the bias/activation pass reads
// it. Profiled on the bench's tiny network: at batch 1 a quarter of a 1-thread inference was wake-ups; at batch 64
// the second thread gained Conv2D 1.1×.
//
// Numbers: each output is one chain of fused multiply-adds over k in order 0, 1, …, k−1 starting from zero, which is
// how oneDNN's 1×1 convolution on AVX-512 sums (checked bit for bit against tf.conv2d in
// test/unit/nn/fused.test.ts); bias, h-swish and residual are ScaleNetBiasAct's and ScaleNetBiasResidual's float
// operations. Rows are split into fixed tasks, so the thread count does not change a bit. AVX-512 only: elsewhere
// `convs` is reported false and the engine keeps TensorFlow's convs.

enum class PwEpilogue { kNone, kBias, kBiasHswish, kBiasResidual };

struct PwArgs {
  const float* x;
  const float* w;
  const float* bias;
  const float* res;
  float* y;
  int64_t k, c;
  PwEpilogue epi;
};

template <int R, int NV>
__attribute__((target("avx512f,fma"))) void pw_tile(const PwArgs& a, int64_t r, int64_t c0, __mmask16 last) {
  __m512 acc[R][NV];
  #pragma GCC unroll 8
  for (int i = 0; i < R; i++)
    #pragma GCC unroll 8
    for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
  const float* wp = a.w + c0;
  const float* xr = a.x + r * a.k;
  for (int64_t kk = 0; kk < a.k; kk++, wp += a.c) {
    __m512 wv[NV];
    #pragma GCC unroll 8
    for (int v = 0; v < NV; v++) wv[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(last, wp + 16 * v) : _mm512_loadu_ps(wp + 16 * v);
    #pragma GCC unroll 8
    for (int i = 0; i < R; i++) {
      const __m512 xb = _mm512_set1_ps(xr[i * a.k + kk]);
      #pragma GCC unroll 8
      for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(xb, wv[v], acc[i][v]);
    }
  }
  const __m512 zero = _mm512_setzero_ps(), three = _mm512_set1_ps(3.0f), six = _mm512_set1_ps(6.0f), sixth = _mm512_set1_ps(kSixth);
  #pragma GCC unroll 8
  for (int v = 0; v < NV; v++) {
    const __mmask16 m = v == NV - 1 ? last : static_cast<__mmask16>(0xFFFF);
    const int64_t col = c0 + 16 * v;
    const __m512 b = a.epi == PwEpilogue::kNone ? zero : _mm512_maskz_loadu_ps(m, a.bias + col);
    #pragma GCC unroll 8
    for (int i = 0; i < R; i++) {
      __m512 z = acc[i][v];
      float* out = a.y + (r + i) * a.c + col;
      if (a.epi != PwEpilogue::kNone) z = _mm512_add_ps(z, b);
      if (a.epi == PwEpilogue::kBiasHswish) {  // y · (min(max(y + 3, 0), 6) · ⅙), as hswish() computes it
        __m512 h = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(z, three), zero), six);
        z = _mm512_mul_ps(z, _mm512_mul_ps(h, sixth));
      } else if (a.epi == PwEpilogue::kBiasResidual) {
        z = _mm512_add_ps(_mm512_maskz_loadu_ps(m, a.res + (r + i) * a.c + col), z);
      }
      _mm512_mask_storeu_ps(out, m, z);
    }
  }
}

// Rows [r0, r1): column blocks of up to 64 outputs (four vectors), rows in tiles of up to 8 (6 when the block is
// three or four vectors wide: 24 accumulators of the 32 registers).
template <int NV>
void pw_rows_nv(const PwArgs& a, int64_t r0, int64_t r1, int64_t c0, __mmask16 last) {
  constexpr int kMax = NV >= 3 ? 6 : 8;
  int64_t r = r0;
  for (; r + kMax <= r1; r += kMax) pw_tile<kMax, NV>(a, r, c0, last);
  switch (r1 - r) {
    case 7: if constexpr (kMax > 7) pw_tile<7, NV>(a, r, c0, last); break;
    case 6: if constexpr (kMax > 6) pw_tile<6, NV>(a, r, c0, last); break;
    case 5: pw_tile<5, NV>(a, r, c0, last); break;
    case 4: pw_tile<4, NV>(a, r, c0, last); break;
    case 3: pw_tile<3, NV>(a, r, c0, last); break;
    case 2: pw_tile<2, NV>(a, r, c0, last); break;
    case 1: pw_tile<1, NV>(a, r, c0, last); break;
    default: break;
  }
}

void pw_rows(const PwArgs& a, int64_t r0, int64_t r1) {
  for (int64_t c0 = 0; c0 < a.c; c0 += 64) {
    const int64_t width = std::min<int64_t>(64, a.c - c0);
    const int nv = static_cast<int>((width + 15) / 16);
    const int rem = static_cast<int>(width - 16 * (nv - 1));
    const __mmask16 last = static_cast<__mmask16>(rem == 16 ? 0xFFFF : (1u << rem) - 1);
    switch (nv) {
      case 1: pw_rows_nv<1>(a, r0, r1, c0, last); break;
      case 2: pw_rows_nv<2>(a, r0, r1, c0, last); break;
      case 3: pw_rows_nv<3>(a, r0, r1, c0, last); break;
      default: pw_rows_nv<4>(a, r0, r1, c0, last); break;
    }
  }
}

bool convs_supported() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  return ok;
}

void pointwise(TF_OpKernelContext* ctx, PwEpilogue epi, bool hswish_attr) {
  Input x, w, bias, res;
  const bool has_bias = epi != PwEpilogue::kNone, has_res = epi == PwEpilogue::kBiasResidual;
  if (!get(ctx, 0, x) || !get(ctx, 1, w) || (has_bias && !get(ctx, 2, bias)) || (has_res && !get(ctx, 3, res))) return;
  if (!convs_supported()) return fail(ctx, "ScaleNetPointwise needs AVX-512 (the engine uses tf.conv2d elsewhere)");
  if (x.rank() != 4 || w.rank() != 4 || w.dim(0) != 1 || w.dim(1) != 1 || w.dim(2) != x.dim(3)) {
    return fail(ctx, "pointwise conv: expected x [n, h, w, k] and a filter [1, 1, k, c]");
  }
  const int64_t k = w.dim(2), c = w.dim(3), rows = x.size() / std::max<int64_t>(k, 1);
  if (has_bias && !check_vec(ctx, bias, c, "bias")) return;
  const std::vector<int64_t> dims = {x.dim(0), x.dim(1), x.dim(2), c};
  if (has_res && res.dims() != dims) return fail(ctx, "residual and the conv's output differ in shape");
  Output y;
  if (!alloc(ctx, 0, dims, y)) return;
  if (epi == PwEpilogue::kBias && hswish_attr) epi = PwEpilogue::kBiasHswish;
  const PwArgs a{x.data(), w.data(), has_bias ? bias.data() : nullptr, has_res ? res.data() : nullptr, y.data(), k, c, epi};
  if (rows == 0 || c == 0) return;
  if (k == 0) return fail(ctx, "pointwise conv: no input channels");
  for_row_tasks(rows, c, [&](int64_t r0, int64_t r1, int64_t) { pw_rows(a, r0, r1); });
}

// ScaleNetPointwiseInputGrad: (dy [n, h, w, c], filter [1, 1, k, c]) → dx = dy · filterᵀ [n, h, w, k], a 1×1 conv's
// input gradient: the same product with the filter transposed first (TensorFlow's Conv2DBackpropInput bits).
void pointwise_input_grad(void*, TF_OpKernelContext* ctx) {
  Input dy, w;
  if (!get(ctx, 0, dy) || !get(ctx, 1, w)) return;
  if (!convs_supported()) return fail(ctx, "ScaleNetPointwiseInputGrad needs AVX-512");
  if (dy.rank() != 4 || w.rank() != 4 || w.dim(0) != 1 || w.dim(1) != 1 || w.dim(3) != dy.dim(3)) {
    return fail(ctx, "pointwise conv gradient: expected dy [n, h, w, c] and a filter [1, 1, k, c]");
  }
  const int64_t k = w.dim(2), c = w.dim(3), rows = dy.size() / std::max<int64_t>(c, 1);
  Output dx;
  if (!alloc(ctx, 0, {dy.dim(0), dy.dim(1), dy.dim(2), k}, dx)) return;
  if (rows == 0 || k == 0) return;
  if (c == 0) return fail(ctx, "pointwise conv gradient: no output channels");
  std::vector<float> wt(static_cast<size_t>(k * c));  // [c, k]
  for (int64_t i = 0; i < k; i++)
    for (int64_t j = 0; j < c; j++) wt[j * k + i] = w.data()[i * c + j];
  const PwArgs a{dy.data(), wt.data(), nullptr, nullptr, dx.data(), c, k, PwEpilogue::kNone};
  for_row_tasks(rows, k, [&](int64_t r0, int64_t r1, int64_t) { pw_rows(a, r0, r1); });
}

void pointwise_plain(void*, TF_OpKernelContext* ctx) { pointwise(ctx, PwEpilogue::kNone, false); }
void pointwise_bias_act(void* kernel, TF_OpKernelContext* ctx) { pointwise(ctx, PwEpilogue::kBias, static_cast<Attrs*>(kernel)->hswish); }
void pointwise_bias_residual(void*, TF_OpKernelContext* ctx) { pointwise(ctx, PwEpilogue::kBiasResidual, false); }

// ---------------------------------------------------------------------------------------------------------------
// ScaleNetDepthwise / ScaleNetDepthwiseBiasActSeInfer: a depthwise convolution with TensorFlow's 'same' padding
// (NHWC x, filter [kh, kw, c, 1], stride as attribute), alone (training, recalibration) or followed by the folded
// BN's bias, h-swish and squeeze-excite per image while the image is in cache (inference; ScaleNetBiasActSeInfer's
// float operations). Why: tf.depthwiseConv2d (oneDNN) pays a hand-off to the intra-op pool per call and writes an
// activation that the next kernel reads back.
//
// Numbers: each output is one chain of fused multiply-adds over the window's taps inside the image, rows then
// columns, from zero: oneDNN's order on AVX-512 (checked bit for bit against tf.depthwiseConv2d in
// test/unit/nn/fused.test.ts). Tasks are output rows (alone) or images (with squeeze-excite): thread-count free.

struct DwShape {
  int64_t n, h, w, c, kh, kw, stride, oh, ow, pad_t, pad_l;
};

// TensorFlow's 'same': out = ⌈in / stride⌉, padding (out − 1)·stride + k − in split with the extra pixel after.
bool dw_shape(TF_OpKernelContext* ctx, const Input& x, const Input& f, int64_t stride, DwShape& s) {
  if (x.rank() != 4 || f.rank() != 4 || f.dim(2) != x.dim(3) || f.dim(3) != 1) {
    fail(ctx, "depthwise conv: expected x [n, h, w, c] and a filter [kh, kw, c, 1]");
    return false;
  }
  s.n = x.dim(0), s.h = x.dim(1), s.w = x.dim(2), s.c = x.dim(3), s.kh = f.dim(0), s.kw = f.dim(1), s.stride = stride;
  s.oh = (s.h + stride - 1) / stride, s.ow = (s.w + stride - 1) / stride;
  s.pad_t = std::max<int64_t>((s.oh - 1) * stride + s.kh - s.h, 0) / 2;
  s.pad_l = std::max<int64_t>((s.ow - 1) * stride + s.kw - s.w, 0) / 2;
  return true;
}

// One output pixel of one row, 16 channels (mask m), taps outside the image skipped: kernels without a specialised
// version below.
__attribute__((target("avx512f,fma"))) void dw_pixel(const DwShape& s, const float* xi, const float* f, float* yrow, int64_t orow,
                                                     int64_t ocol, int64_t c0, __mmask16 m) {
  const int64_t c = s.c, width = s.w, kw_n = s.kw;
  __m512 acc = _mm512_setzero_ps();
  for (int64_t kh = 0; kh < s.kh; kh++) {
    const int64_t ih = orow * s.stride - s.pad_t + kh;
    if (ih < 0 || ih >= s.h) continue;
    const float* xrow = xi + ih * width * c + c0;
    const float* frow = f + kh * kw_n * c + c0;
    for (int64_t kw = 0; kw < kw_n; kw++) {
      const int64_t iw = ocol * s.stride - s.pad_l + kw;
      if (iw < 0 || iw >= width) continue;
      acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xrow + iw * c), _mm512_maskz_loadu_ps(m, frow + kw * c), acc);
    }
  }
  _mm512_mask_storeu_ps(yrow + ocol * c + c0, m, acc);
}

// P consecutive output pixels of one row of a K×K kernel at stride S, 16 channels (mask m), tap rows [kh0, kh1)
// (those inside the image): per row of taps each input column is loaded once and used for every pixel whose
// window holds it (pixel p takes column p·S + kw), and the K weights stay in registers. Columns outside the image
// load as zeros: adding a zero product leaves a sum unchanged (it starts at +0 and can never be −0), so this equals
// skipping those taps bit for bit. Per pixel the taps add in row-major order, as in dw_pixel.
template <int K, int S, int P>
__attribute__((target("avx512f,fma"))) void dw_group(const DwShape& s, const float* xi, const float* f, float* yrow, int64_t orow,
                                                     int64_t ocol, int64_t c0, __mmask16 m, int64_t kh0, int64_t kh1) {
  const int64_t c = s.c, first = ocol * S - s.pad_l;  // input column of pixel 0's first tap
  __mmask16 cols[(P - 1) * S + K];
#pragma GCC unroll 32
  for (int j = 0; j < (P - 1) * S + K; j++) cols[j] = first + j >= 0 && first + j < s.w ? m : static_cast<__mmask16>(0);
  __m512 acc[P];
#pragma GCC unroll 8
  for (int p = 0; p < P; p++) acc[p] = _mm512_setzero_ps();
  for (int64_t kh = kh0; kh < kh1; kh++) {
    const float* xcol = xi + ((orow * S - s.pad_t + kh) * s.w + first) * c + c0;  // masked-off lanes are never read
    const float* frow = f + kh * K * c + c0;
    __m512 wv[K];
#pragma GCC unroll 8
    for (int kw = 0; kw < K; kw++) wv[kw] = _mm512_maskz_loadu_ps(m, frow + kw * c);
#pragma GCC unroll 32
    for (int j = 0; j < (P - 1) * S + K; j++) {
      const __m512 xv = _mm512_maskz_loadu_ps(cols[j], xcol + j * c);
#pragma GCC unroll 8
      for (int p = 0; p < P; p++) {
        const int kw = j - p * S;
        if (kw >= 0 && kw < K) acc[p] = _mm512_fmadd_ps(xv, wv[kw], acc[p]);
      }
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; p++) _mm512_mask_storeu_ps(yrow + (ocol + p) * c + c0, m, acc[p]);
}

// One output row in groups of 8, 4, 2 and 1 pixels.
template <int K, int S>
void dw_row_groups(const DwShape& s, const float* xi, const float* f, float* yrow, int64_t orow, int64_t c0, __mmask16 m, int64_t kh0,
                   int64_t kh1) {
  int64_t ocol = 0;
  for (; ocol + 8 <= s.ow; ocol += 8) dw_group<K, S, 8>(s, xi, f, yrow, orow, ocol, c0, m, kh0, kh1);
  if (ocol + 4 <= s.ow) dw_group<K, S, 4>(s, xi, f, yrow, orow, ocol, c0, m, kh0, kh1), ocol += 4;
  if (ocol + 2 <= s.ow) dw_group<K, S, 2>(s, xi, f, yrow, orow, ocol, c0, m, kh0, kh1), ocol += 2;
  if (ocol < s.ow) dw_group<K, S, 1>(s, xi, f, yrow, orow, ocol, c0, m, kh0, kh1);
}

using DwRow = void (*)(const DwShape&, const float*, const float*, float*, int64_t, int64_t, __mmask16, int64_t, int64_t);

// The specialised row of square 3/5/7 kernels at stride 1 or 2 (the search space's), else null.
DwRow dw_row_for(const DwShape& s) {
  if (s.kh != s.kw || s.stride > 2) return nullptr;
  switch (s.kh * 10 + s.stride) {
    case 31: return dw_row_groups<3, 1>;
    case 32: return dw_row_groups<3, 2>;
    case 51: return dw_row_groups<5, 1>;
    case 52: return dw_row_groups<5, 2>;
    case 71: return dw_row_groups<7, 1>;
    case 72: return dw_row_groups<7, 2>;
    default: return nullptr;
  }
}

// Output row `orow` of one image (xi: the image, yi: its output).
void dw_row(const DwShape& s, const float* xi, const float* f, float* yi, int64_t orow) {
  float* yrow = yi + orow * s.ow * s.c;
  const int64_t top = orow * s.stride - s.pad_t;
  const int64_t kh0 = std::max<int64_t>(0, -top), kh1 = std::min<int64_t>(s.kh, s.h - top);  // tap rows inside the image
  const DwRow fast = dw_row_for(s);
  for (int64_t c0 = 0; c0 < s.c; c0 += 16) {
    const int64_t width = std::min<int64_t>(16, s.c - c0);
    const __mmask16 m = static_cast<__mmask16>(width == 16 ? 0xFFFF : (1u << width) - 1);
    if (fast) {
      fast(s, xi, f, yrow, orow, c0, m, kh0, kh1);
    } else {
      for (int64_t ocol = 0; ocol < s.ow; ocol++) dw_pixel(s, xi, f, yrow, orow, ocol, c0, m);
    }
  }
}

void depthwise(void* kernel, TF_OpKernelContext* ctx) {
  Input x, f;
  if (!get(ctx, 0, x) || !get(ctx, 1, f)) return;
  if (!convs_supported()) return fail(ctx, "ScaleNetDepthwise needs AVX-512 (the engine uses tf.depthwiseConv2d elsewhere)");
  DwShape s;
  if (!dw_shape(ctx, x, f, static_cast<Attrs*>(kernel)->stride, s)) return;
  Output y;
  if (!alloc(ctx, 0, {s.n, s.oh, s.ow, s.c}, y)) return;
  if (s.n * s.oh * s.ow * s.c == 0) return;
  const float *xd = x.data(), *fd = f.data();
  float* yd = y.data();
  const auto row = [&](int64_t t) {
    const int64_t i = t / s.oh;
    dw_row(s, xd + i * s.h * s.w * s.c, fd, yd + i * s.oh * s.ow * s.c, t % s.oh);
  };
  if (s.n * s.oh * s.ow * s.c < (1 << 15)) {
    for (int64_t t = 0; t < s.n * s.oh; t++) row(t);
  } else {
    Pool::get().run(s.n * s.oh, row);
  }
}

void depthwise_bias_act_se_infer(void* kernel, TF_OpKernelContext* ctx) {
  Input x, f, bias, w1, b1, w2, b2;
  if (!get(ctx, 0, x) || !get(ctx, 1, f) || !get(ctx, 2, bias) || !get(ctx, 3, w1) || !get(ctx, 4, b1) || !get(ctx, 5, w2) ||
      !get(ctx, 6, b2)) return;
  if (!convs_supported()) return fail(ctx, "ScaleNetDepthwiseBiasActSeInfer needs AVX-512");
  DwShape s;
  if (!dw_shape(ctx, x, f, static_cast<Attrs*>(kernel)->stride, s)) return;
  SeShapes sh;
  if (!se_weight_shapes(ctx, s.n, s.oh * s.ow, s.c, w1, w2, sh)) return;
  if (!check_vec(ctx, bias, s.c, "bias")) return;
  if (b1.size() != sh.se || b2.size() != sh.c) return fail(ctx, "squeeze-excite biases do not match the weights");
  Output y;
  if (!alloc(ctx, 0, {s.n, s.oh, s.ow, s.c}, y)) return;
  std::vector<float> scratch(static_cast<size_t>(s.n * (2 * s.c + sh.se)));
  float* sd = scratch.data();
  float* gd = sd + s.n * s.c;
  float* hd = gd + s.n * s.c;
  const float *xd = x.data(), *fd = f.data();
  Pool::get().run(s.n, [&](int64_t i) {
    thread_local std::vector<float> conv;  // this image's depthwise output, in cache for the squeeze-excite
    conv.resize(static_cast<size_t>(sh.hw * s.c));
    for (int64_t r = 0; r < s.oh; r++) dw_row(s, xd + i * s.h * s.w * s.c, fd, conv.data(), r);
    se_forward_image(sh, conv.data(), w1.data(), b1.data(), w2.data(), b2.data(), sd + i * s.c, hd + i * sh.se, gd + i * s.c,
                     y.data() + i * sh.hw * s.c, bias.data());
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Registration.

struct OpDef {
  const char* name;
  std::vector<const char*> inputs, outputs, attrs;
  void* (*create)(TF_OpKernelConstruction*);
  void (*compute)(void*, TF_OpKernelContext*);
};

const std::vector<OpDef>& op_defs() {
  static const std::vector<OpDef> defs = {
      {"ScaleNetBnActTrain", {"x: float", "gamma: float", "beta: float"}, {"z: float", "mean: float", "variance: float"},
       {"hswish: bool", "epsilon: float"}, create_bn, bn_act_train},
      {"ScaleNetBnActTrainGrad", {"dz: float", "x: float", "gamma: float", "beta: float", "mean: float", "variance: float"},
       {"dx: float", "dgamma: float", "dbeta: float"}, {"hswish: bool", "epsilon: float"}, create_bn, bn_act_train_grad},
      {"ScaleNetBnActTrainResidual", {"x: float", "gamma: float", "beta: float", "residual: float"},
       {"z: float", "mean: float", "variance: float"}, {"hswish: bool", "epsilon: float"}, create_bn, bn_act_train_residual},
      {"ScaleNetBnActSeInfer", {"x: float", "gamma: float", "beta: float", "w1: float", "b1: float", "w2: float", "b2: float"},
       {"y: float", "mean: float", "variance: float"}, {"hswish: bool", "epsilon: float"}, create_bn, bn_act_se_infer},
      {"ScaleNetBiasAct", {"x: float", "bias: float"}, {"z: float"}, {"hswish: bool"}, create_act, bias_act},
      {"ScaleNetBiasResidual", {"x: float", "bias: float", "residual: float"}, {"z: float"}, {}, create_none, bias_residual},
      {"ScaleNetMomentSums", {"mean: float", "variance: float"}, {"s1: float", "s2: float"}, {"count: float"}, create_count,
       moment_sums_first},
      {"ScaleNetMomentSumsAdd", {"s1: float", "s2: float", "mean: float", "variance: float"}, {"s1_out: float", "s2_out: float"},
       {"count: float"}, create_count, moment_sums_add},
      {"ScaleNetSpatialMean", {"x: float"}, {"y: float"}, {}, create_none, spatial_mean},
      {"ScaleNetSpatialMeanGrad", {"dy: float", "x: float"}, {"dx: float"}, {}, create_none, spatial_mean_grad},
      {"ScaleNetSeInfer", {"x: float", "w1: float", "b1: float", "w2: float", "b2: float"}, {"y: float"}, {}, create_none,
       se_infer},
      {"ScaleNetBiasActSeInfer", {"x: float", "bias: float", "w1: float", "b1: float", "w2: float", "b2: float"}, {"y: float"}, {},
       create_none, bias_act_se_infer},
      {"ScaleNetSeTrain", {"x: float", "w1: float", "b1: float", "w2: float", "b2: float"},
       {"y: float", "s: float", "hpre: float", "gpre: float"}, {}, create_none, se_train},
      {"ScaleNetSeTrainGrad", {"dy: float", "x: float", "w1: float", "w2: float", "s: float", "hpre: float", "gpre: float"},
       {"dx: float", "dw1: float", "db1: float", "dw2: float", "db2: float"}, {}, create_none, se_train_grad},
      {"ScaleNetSgdLeading", {"param: float", "momentum: float", "grad: float", "hyper: float"},
       {"new_param: float", "new_momentum: float"}, {}, create_none, sgd_leading},
      {"ScaleNetLerpLeading", {"full: float", "value: float"}, {"out: float"}, {"alpha: float"}, create_lerp, lerp_leading},
      {"ScaleNetDepthwise", {"x: float", "w: float"}, {"y: float"}, {"stride: int"}, create_stride, depthwise},
      {"ScaleNetDepthwiseBiasActSeInfer", {"x: float", "w: float", "bias: float", "w1: float", "b1: float", "w2: float", "b2: float"},
       {"y: float"}, {"stride: int"}, create_stride, depthwise_bias_act_se_infer},
      {"ScaleNetPointwise", {"x: float", "w: float"}, {"y: float"}, {}, create_none, pointwise_plain},
      {"ScaleNetPointwiseInputGrad", {"dy: float", "w: float"}, {"dx: float"}, {}, create_none, pointwise_input_grad},
      {"ScaleNetPointwiseBiasAct", {"x: float", "w: float", "bias: float"}, {"y: float"}, {"hswish: bool"}, create_act, pointwise_bias_act},
      {"ScaleNetPointwiseBiasResidual", {"x: float", "w: float", "bias: float", "residual: float"}, {"y: float"}, {}, create_none,
       pointwise_bias_residual},
  };
  return defs;
}

std::string register_all() {
  for (const OpDef& d : op_defs()) {
    TF_OpDefinitionBuilder* b = TF_NewOpDefinitionBuilder(d.name);
    for (const char* s : d.inputs) TF_OpDefinitionBuilderAddInput(b, s);
    for (const char* s : d.outputs) TF_OpDefinitionBuilderAddOutput(b, s);
    for (const char* s : d.attrs) TF_OpDefinitionBuilderAddAttr(b, s);
    Status st;
    TF_RegisterOpDefinition(b, st.s);
    if (!st.ok()) return std::string("registering op ") + d.name + ": " + TF_Message(st.s);
    TF_KernelBuilder* kb = TF_NewKernelBuilder(d.name, "CPU", d.create, d.compute, delete_attrs);
    TF_RegisterKernelBuilder(d.name, kb, st.s);
    if (!st.ok()) return std::string("registering kernel ") + d.name + ": " + TF_Message(st.s);
  }
  return "";
}

napi_value init(napi_env env, napi_value exports) {
  // Once per process: worker threads load the addon again, but the op registry is global.
  static std::once_flag once;
  static std::string error;
  std::call_once(once, [] { error = register_all(); });
  if (!error.empty()) {
    napi_throw_error(env, nullptr, error.c_str());
    return nullptr;
  }
  napi_value names;
  napi_create_array(env, &names);
  uint32_t i = 0;
  for (const OpDef& d : op_defs()) {
    napi_value s;
    napi_create_string_utf8(env, d.name, NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, names, i++, s);
  }
  napi_set_named_property(env, exports, "ops", names);
  napi_value convs;  // whether the conv kernels (AVX-512 only) run here
  napi_get_boolean(env, convs_supported(), &convs);
  napi_set_named_property(env, exports, "convs", convs);
  return exports;
}

}  // namespace

NAPI_MODULE_INIT() { return init(env, exports); }
