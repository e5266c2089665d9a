;; The dynamic programme of 1-D k-means (kmeansDp.ts) in WebAssembly: every row of
;; cur[j] = min over i < j of prev[i] + cost(i, j), one call for all of them. Each cell evaluates
;; the same float64 operations in the same order as the JavaScript reference's solveCell, so the
;; costs and splits are the same to the bit: with c = pc[j] - pc[i],
;; s = (sHi[j] - sHi[i]) + (sLo[j] - sLo[i]), e = ((qHi[j] - qHi[i]) + (qLo[j] - qLo[i])) - s·s / c,
;; the candidate is prev[i] + (e > 0 ? e : 0). A cell of three or more candidates (five or
;; more in Knuth's rows) takes two at a time (f64x2): each lane keeps its own first best, and the
;; lanes are merged at the end (the lower cost, else the lower split), which is the sequential
;; scan's "first of equals". A candidate after an infinite prev[i] costs infinity and never wins,
;; as the reference's skip. No fused multiply-add (it would round differently).
;;
;; Memory, all set by kmeansKernel.ts, arrays `stride` bytes apart from 0: prefix counts pc,
;; prefix sums sHi, sLo, prefix squares qHi, qLo (n + 1 float64 each), the two cost rows (prev:
;; 0 then infinity; the other is filled here), the plan (two int32 a row: its last cell, 1 for
;; Knuth's bounds), then the split table: row 0 (zeros, the first row's lower bounds) and rows
;; 1..kMax of n + 1 int32 (zeroed by the caller; cells not solved keep 0).
;;
;; dp(n, kMax, stride, simd): solves rows 1..kMax; simd 0 evaluates one candidate at a time
;; in every cell (the benchmark compares both).
(module
  (memory (export "memory") 1)

  (global $sh (mut i32) (i32.const 0))
  (global $sl (mut i32) (i32.const 0))
  (global $qh (mut i32) (i32.const 0))
  (global $ql (mut i32) (i32.const 0))
  (global $prev (mut i32) (i32.const 0))
  (global $cur (mut i32) (i32.const 0))
  (global $arg (mut i32) (i32.const 0))
  (global $prevArg (mut i32) (i32.const 0))
  (global $simd (mut i32) (i32.const 1))

  ;; cur[j] and arg[j]: the best split i in [max(f1, f2), min(e1, e2)] (the first of equals;
  ;; `first` when none is finite); returns it. One or two candidates are cheaper one at a time.
  (func $cell (param $j i32) (param $f1 i32) (param $f2 i32) (param $e1 i32) (param $e2 i32) (result i32)
    (local $first i32) (local $end i32)
    (local.set $first (select (local.get $f1) (local.get $f2) (i32.gt_s (local.get $f1) (local.get $f2))))
    (local.set $end (select (local.get $e1) (local.get $e2) (i32.lt_s (local.get $e1) (local.get $e2))))
    (if (result i32) (i32.and (global.get $simd) (i32.gt_s (i32.sub (local.get $end) (local.get $first)) (i32.const 1)))
      (then (call $cellPairs (local.get $j) (local.get $first) (local.get $end)))
      (else (call $cellOne (local.get $j) (local.get $first) (local.get $end)))))

  ;; Two candidates a step, each lane keeping its own first best.
  (func $cellPairs (param $j i32) (param $first i32) (param $end i32) (result i32)
    (local $sh i32) (local $sl i32) (local $qh i32) (local $ql i32) (local $prev i32)
    (local $i i32) (local $o i32) (local $pj i32)
    (local $cj v128) (local $shj v128) (local $slj v128) (local $qhj v128) (local $qlj v128)
    (local $c v128) (local $s v128) (local $e v128) (local $v v128) (local $lt v128)
    (local $best v128) (local $bestI v128) (local $idx v128)
    (local $b0 f64) (local $b1 f64) (local $i0 i32) (local $i1 i32)
    (local.set $sh (global.get $sh))
    (local.set $sl (global.get $sl))
    (local.set $qh (global.get $qh))
    (local.set $ql (global.get $ql))
    (local.set $prev (global.get $prev))
    (local.set $pj (i32.shl (local.get $j) (i32.const 3)))
    (local.set $cj (v128.load64_splat (local.get $pj)))
    (local.set $shj (v128.load64_splat (i32.add (global.get $sh) (local.get $pj))))
    (local.set $slj (v128.load64_splat (i32.add (global.get $sl) (local.get $pj))))
    (local.set $qhj (v128.load64_splat (i32.add (global.get $qh) (local.get $pj))))
    (local.set $qlj (v128.load64_splat (i32.add (global.get $ql) (local.get $pj))))
    (local.set $best (f64x2.splat (f64.const inf)))
    (local.set $bestI (i64x2.splat (i64.extend_i32_s (local.get $first))))
    (local.set $idx (i64x2.replace_lane 1 (local.get $bestI) (i64.extend_i32_s (i32.add (local.get $first) (i32.const 1)))))
    (local.set $i (local.get $first))
    (block $done
      (loop $pairs
        (br_if $done (i32.gt_s (local.get $i) (local.get $end)))
        ;; candidates i and i + 1 (i + 1 <= j is still inside the arrays; past `end` it is made infinite)
        (local.set $o (i32.shl (local.get $i) (i32.const 3)))
        (local.set $c (f64x2.sub (local.get $cj) (v128.load (local.get $o))))
        (local.set $s (f64x2.add
          (f64x2.sub (local.get $shj) (v128.load (i32.add (local.get $sh) (local.get $o))))
          (f64x2.sub (local.get $slj) (v128.load (i32.add (local.get $sl) (local.get $o))))))
        (local.set $e (f64x2.sub
          (f64x2.add
            (f64x2.sub (local.get $qhj) (v128.load (i32.add (local.get $qh) (local.get $o))))
            (f64x2.sub (local.get $qlj) (v128.load (i32.add (local.get $ql) (local.get $o)))))
          (f64x2.div (f64x2.mul (local.get $s) (local.get $s)) (local.get $c))))
        (local.set $e (v128.and (local.get $e) (f64x2.gt (local.get $e) (f64x2.splat (f64.const 0)))))
        (local.set $v (f64x2.add (v128.load (i32.add (local.get $prev) (local.get $o))) (local.get $e)))
        (local.set $v (select (result v128)
          (local.get $v)
          (f64x2.replace_lane 1 (local.get $v) (f64.const inf))
          (i32.lt_s (local.get $i) (local.get $end))))
        (local.set $lt (f64x2.lt (local.get $v) (local.get $best)))
        (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $lt)))
        (local.set $bestI (v128.bitselect (local.get $idx) (local.get $bestI) (local.get $lt)))
        (local.set $idx (i64x2.add (local.get $idx) (i64x2.splat (i64.const 2))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $pairs)))
    (local.set $b0 (f64x2.extract_lane 0 (local.get $best)))
    (local.set $b1 (f64x2.extract_lane 1 (local.get $best)))
    (local.set $i0 (i32.wrap_i64 (i64x2.extract_lane 0 (local.get $bestI))))
    (local.set $i1 (i32.wrap_i64 (i64x2.extract_lane 1 (local.get $bestI))))
    (if (i32.or (f64.lt (local.get $b1) (local.get $b0))
                (i32.and (f64.eq (local.get $b1) (local.get $b0)) (i32.lt_s (local.get $i1) (local.get $i0))))
      (then (local.set $b0 (local.get $b1)) (local.set $i0 (local.get $i1))))
    (f64.store (i32.add (global.get $cur) (local.get $pj)) (local.get $b0))
    (i32.store (i32.add (global.get $arg) (i32.shl (local.get $j) (i32.const 2))) (local.get $i0))
    (local.get $i0))

  ;; One candidate a step.
  (func $cellOne (param $j i32) (param $first i32) (param $end i32) (result i32)
    (local $i i32) (local $o i32) (local $pj i32)
    (local $sh i32) (local $sl i32) (local $qh i32) (local $ql i32) (local $prev i32)
    (local $cj f64) (local $shj f64) (local $slj f64) (local $qhj f64) (local $qlj f64)
    (local $s f64) (local $e f64) (local $v f64) (local $best f64) (local $bestI i32) (local $lt i32)
    (local.set $sh (global.get $sh))
    (local.set $sl (global.get $sl))
    (local.set $qh (global.get $qh))
    (local.set $ql (global.get $ql))
    (local.set $prev (global.get $prev))
    (local.set $pj (i32.shl (local.get $j) (i32.const 3)))
    (local.set $cj (f64.load (local.get $pj)))
    (local.set $shj (f64.load (i32.add (local.get $sh) (local.get $pj))))
    (local.set $slj (f64.load (i32.add (local.get $sl) (local.get $pj))))
    (local.set $qhj (f64.load (i32.add (local.get $qh) (local.get $pj))))
    (local.set $qlj (f64.load (i32.add (local.get $ql) (local.get $pj))))
    (local.set $best (f64.const inf))
    (local.set $bestI (local.get $first))
    (local.set $i (local.get $first))
    (block $done
      (loop $each
        (br_if $done (i32.gt_s (local.get $i) (local.get $end)))
        (local.set $o (i32.shl (local.get $i) (i32.const 3)))
        (local.set $s (f64.add
          (f64.sub (local.get $shj) (f64.load (i32.add (local.get $sh) (local.get $o))))
          (f64.sub (local.get $slj) (f64.load (i32.add (local.get $sl) (local.get $o))))))
        (local.set $e (f64.sub
          (f64.add
            (f64.sub (local.get $qhj) (f64.load (i32.add (local.get $qh) (local.get $o))))
            (f64.sub (local.get $qlj) (f64.load (i32.add (local.get $ql) (local.get $o)))))
          (f64.div (f64.mul (local.get $s) (local.get $s)) (f64.sub (local.get $cj) (f64.load (local.get $o))))))
        (local.set $v (f64.add (f64.load (i32.add (local.get $prev) (local.get $o)))
          (select (local.get $e) (f64.const 0) (f64.gt (local.get $e) (f64.const 0)))))
        (local.set $lt (f64.lt (local.get $v) (local.get $best)))
        (local.set $best (select (local.get $v) (local.get $best) (local.get $lt)))
        (local.set $bestI (select (local.get $i) (local.get $bestI) (local.get $lt)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (f64.store (i32.add (global.get $cur) (local.get $pj)) (local.get $best))
    (i32.store (i32.add (global.get $arg) (i32.shl (local.get $j) (i32.const 2))) (local.get $bestI))
    (local.get $bestI))

  (func $prevArgAt (param $j i32) (result i32)
    (i32.load (i32.add (global.get $prevArg) (i32.shl (local.get $j) (i32.const 2)))))

  ;; Cells lo..hi, their splits within [optLo, optHi] and at least the previous row's: divide and conquer.
  (func $halves (param $lo i32) (param $hi i32) (param $optLo i32) (param $optHi i32)
    (local $mid i32) (local $best i32)
    (local.set $mid (i32.shr_s (i32.add (local.get $lo) (local.get $hi)) (i32.const 1)))
    (local.set $best (call $cell (local.get $mid)
      (local.get $optLo) (call $prevArgAt (local.get $mid))
      (i32.sub (local.get $mid) (i32.const 1)) (local.get $optHi)))
    (if (i32.lt_s (local.get $lo) (local.get $mid))
      (then (call $halves (local.get $lo) (i32.sub (local.get $mid) (i32.const 1)) (local.get $optLo) (local.get $best))))
    (if (i32.lt_s (local.get $mid) (local.get $hi))
      (then (call $halves (i32.add (local.get $mid) (i32.const 1)) (local.get $hi) (local.get $best) (local.get $optHi)))))

  ;; Cells last down to m, each between the previous row's split and the next cell's (Knuth).
  ;; Most have one to four candidates: those are solved here, one at a time, without a call.
  (func $knuth (param $m i32) (param $last i32)
    (local $j i32) (local $upper i32) (local $first i32) (local $end i32) (local $t i32)
    (local $sh i32) (local $sl i32) (local $qh i32) (local $ql i32)
    (local $prev i32) (local $cur i32) (local $arg i32) (local $prevArg i32)
    (local $i i32) (local $o i32) (local $pj i32)
    (local $cj f64) (local $shj f64) (local $slj f64) (local $qhj f64) (local $qlj f64)
    (local $s f64) (local $e f64) (local $v f64) (local $best f64) (local $bestI i32) (local $lt i32)
    (local.set $sh (global.get $sh))
    (local.set $sl (global.get $sl))
    (local.set $qh (global.get $qh))
    (local.set $ql (global.get $ql))
    (local.set $prev (global.get $prev))
    (local.set $cur (global.get $cur))
    (local.set $arg (global.get $arg))
    (local.set $prevArg (global.get $prevArg))
    (local.set $upper (i32.sub (local.get $last) (i32.const 1)))
    (local.set $j (local.get $last))
    (block $done
      (loop $cells
        (br_if $done (i32.lt_s (local.get $j) (local.get $m)))
        (local.set $first (i32.sub (local.get $m) (i32.const 1)))
        (local.set $t (i32.load (i32.add (local.get $prevArg) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $first (select (local.get $first) (local.get $t) (i32.gt_s (local.get $first) (local.get $t))))
        (local.set $t (i32.sub (local.get $j) (i32.const 1)))
        (local.set $end (select (local.get $upper) (local.get $t) (i32.lt_s (local.get $upper) (local.get $t))))
        (if (i32.and (global.get $simd) (i32.gt_s (i32.sub (local.get $end) (local.get $first)) (i32.const 3)))
          (then (local.set $upper (call $cellPairs (local.get $j) (local.get $first) (local.get $end))))
          (else
            (local.set $pj (i32.shl (local.get $j) (i32.const 3)))
            (local.set $cj (f64.load (local.get $pj)))
            (local.set $shj (f64.load (i32.add (local.get $sh) (local.get $pj))))
            (local.set $slj (f64.load (i32.add (local.get $sl) (local.get $pj))))
            (local.set $qhj (f64.load (i32.add (local.get $qh) (local.get $pj))))
            (local.set $qlj (f64.load (i32.add (local.get $ql) (local.get $pj))))
            (local.set $best (f64.const inf))
            (local.set $bestI (local.get $first))
            (local.set $i (local.get $first))
            (block $evaluated
              (loop $each
                (br_if $evaluated (i32.gt_s (local.get $i) (local.get $end)))
                (local.set $o (i32.shl (local.get $i) (i32.const 3)))
                (local.set $s (f64.add
                  (f64.sub (local.get $shj) (f64.load (i32.add (local.get $sh) (local.get $o))))
                  (f64.sub (local.get $slj) (f64.load (i32.add (local.get $sl) (local.get $o))))))
                (local.set $e (f64.sub
                  (f64.add
                    (f64.sub (local.get $qhj) (f64.load (i32.add (local.get $qh) (local.get $o))))
                    (f64.sub (local.get $qlj) (f64.load (i32.add (local.get $ql) (local.get $o)))))
                  (f64.div (f64.mul (local.get $s) (local.get $s)) (f64.sub (local.get $cj) (f64.load (local.get $o))))))
                (local.set $v (f64.add (f64.load (i32.add (local.get $prev) (local.get $o)))
                  (select (local.get $e) (f64.const 0) (f64.gt (local.get $e) (f64.const 0)))))
                (local.set $lt (f64.lt (local.get $v) (local.get $best)))
                (local.set $best (select (local.get $v) (local.get $best) (local.get $lt)))
                (local.set $bestI (select (local.get $i) (local.get $bestI) (local.get $lt)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $each)))
            (f64.store (i32.add (local.get $cur) (local.get $pj)) (local.get $best))
            (i32.store (i32.add (local.get $arg) (i32.shl (local.get $j) (i32.const 2))) (local.get $bestI))
            (local.set $upper (local.get $bestI))))
        (local.set $j (i32.sub (local.get $j) (i32.const 1)))
        (br $cells))))

  (func (export "dp") (param $n i32) (param $kMax i32) (param $stride i32) (param $simd i32)
    (local $m i32) (local $p i32) (local $end i32) (local $plan i32) (local $last i32) (local $t i32) (local $row i32)
    (global.set $simd (local.get $simd))
    (global.set $sh (local.get $stride))
    (global.set $sl (i32.mul (local.get $stride) (i32.const 2)))
    (global.set $qh (i32.mul (local.get $stride) (i32.const 3)))
    (global.set $ql (i32.mul (local.get $stride) (i32.const 4)))
    (global.set $prev (i32.mul (local.get $stride) (i32.const 5)))
    (global.set $cur (i32.mul (local.get $stride) (i32.const 6)))
    (local.set $plan (i32.mul (local.get $stride) (i32.const 7)))
    (global.set $prevArg (i32.add (local.get $plan) (i32.shl (local.get $kMax) (i32.const 3))))
    (local.set $row (i32.shl (i32.add (local.get $n) (i32.const 1)) (i32.const 2)))
    (local.set $m (i32.const 1))
    (block $rows
      (loop $each
        (br_if $rows (i32.gt_s (local.get $m) (local.get $kMax)))
        ;; cur = infinity
        (local.set $p (global.get $cur))
        (local.set $end (i32.add (local.get $p) (i32.shl (i32.add (local.get $n) (i32.const 1)) (i32.const 3))))
        (block $filled
          (loop $fill
            (br_if $filled (i32.ge_u (local.get $p) (local.get $end)))
            (f64.store (local.get $p) (f64.const inf))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (br $fill)))
        (global.set $arg (i32.add (global.get $prevArg) (local.get $row)))
        (local.set $last (i32.load (local.get $plan)))
        (if (i32.load offset=4 (local.get $plan))
          (then (call $knuth (local.get $m) (local.get $last)))
          (else (call $halves (local.get $m) (local.get $last) (i32.sub (local.get $m) (i32.const 1)) (i32.sub (local.get $last) (i32.const 1)))))
        (local.set $t (global.get $prev))
        (global.set $prev (global.get $cur))
        (global.set $cur (local.get $t))
        (global.set $prevArg (global.get $arg))
        (local.set $plan (i32.add (local.get $plan) (i32.const 8)))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))
        (br $each)))))
