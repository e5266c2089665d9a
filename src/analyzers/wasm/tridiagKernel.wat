;; The blocked tridiagonal reduction's matrix-vector loops (tridiagonal.ts's TridiagonalOps) in
;; WebAssembly with 128-bit SIMD, all in float64: the product of each reflector with the matrix
;; still to reduce, and the panel's lazy corrections. The rank-2·nb update of the rest of the
;; matrix (matrix-matrix work) is the float64 matrix multiply's (gemmKernel), on the same memory.
;; Matrices are row-major float64 at byte addresses; n is the row stride in elements.
(module
  ;; The memory of the matrix multiply (gemmKernel) that does the reduction's rank-2·nb updates.
  (import "env" "memory" (memory 1))

  ;; symv(a, n, i, l, p): p[k] += Σ_{j ≤ l} A[j][k]·u[j] over the lower triangle of the leading
  ;; (l+1)² block, u = row i of a. Rows go four at a time (j a multiple of 4) so u and p are read
  ;; once per four rows of A; A[j][k] for k < j adds to p[j] (through acc) and to p[k]. The 4×4
  ;; diagonal block and the last rows (fewer than four) go one element or one row at a time.
  (func (export "symv") (param $a i32) (param $n i32) (param $i i32) (param $l i32) (param $p i32)
    (local $u i32) (local $rs i32) (local $r0 i32) (local $j i32) (local $k i32) (local $end i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $x v128) (local $av v128) (local $sum v128)
    (local $r i32) (local $c i32) (local $ajk f64)
    (local.set $u (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 3))))
    (local.set $rs (i32.shl (local.get $n) (i32.const 3)))
    (local.set $j (i32.const 0))
    (block $quadsDone
      (loop $quads
        (br_if $quadsDone (i32.gt_s (i32.add (local.get $j) (i32.const 3)) (local.get $l)))
        (local.set $r0 (i32.add (local.get $a) (i32.mul (local.get $j) (local.get $rs))))
        (local.set $end (i32.shl (local.get $j) (i32.const 3)))
        (local.set $s0 (f64x2.splat (f64.load (i32.add (local.get $u) (local.get $end)))))
        (local.set $s1 (f64x2.splat (f64.load offset=8 (i32.add (local.get $u) (local.get $end)))))
        (local.set $s2 (f64x2.splat (f64.load offset=16 (i32.add (local.get $u) (local.get $end)))))
        (local.set $s3 (f64x2.splat (f64.load offset=24 (i32.add (local.get $u) (local.get $end)))))
        (local.set $acc0 (v128.const i64x2 0 0))
        (local.set $acc1 (v128.const i64x2 0 0))
        (local.set $acc2 (v128.const i64x2 0 0))
        (local.set $acc3 (v128.const i64x2 0 0))
        (local.set $k (i32.const 0))
        (block $dotDone
          (loop $dot
            (br_if $dotDone (i32.ge_u (local.get $k) (local.get $end)))
            (local.set $x (v128.load (i32.add (local.get $u) (local.get $k))))
            (local.set $av (v128.load (i32.add (local.get $r0) (local.get $k))))
            (local.set $acc0 (f64x2.add (local.get $acc0) (f64x2.mul (local.get $av) (local.get $x))))
            (local.set $sum (f64x2.mul (local.get $av) (local.get $s0)))
            (local.set $av (v128.load (i32.add (i32.add (local.get $r0) (local.get $rs)) (local.get $k))))
            (local.set $acc1 (f64x2.add (local.get $acc1) (f64x2.mul (local.get $av) (local.get $x))))
            (local.set $sum (f64x2.add (local.get $sum) (f64x2.mul (local.get $av) (local.get $s1))))
            (local.set $av (v128.load (i32.add (i32.add (local.get $r0) (i32.shl (local.get $rs) (i32.const 1))) (local.get $k))))
            (local.set $acc2 (f64x2.add (local.get $acc2) (f64x2.mul (local.get $av) (local.get $x))))
            (local.set $sum (f64x2.add (local.get $sum) (f64x2.mul (local.get $av) (local.get $s2))))
            (local.set $av (v128.load (i32.add (i32.add (local.get $r0) (i32.mul (local.get $rs) (i32.const 3))) (local.get $k))))
            (local.set $acc3 (f64x2.add (local.get $acc3) (f64x2.mul (local.get $av) (local.get $x))))
            (local.set $sum (f64x2.add (local.get $sum) (f64x2.mul (local.get $av) (local.get $s3))))
            (v128.store (i32.add (local.get $p) (local.get $k)) (f64x2.add (v128.load (i32.add (local.get $p) (local.get $k))) (local.get $sum)))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $dot)))
        (call $addLanes (i32.add (local.get $p) (local.get $end)) (local.get $acc0))
        (call $addLanes (i32.add (i32.add (local.get $p) (local.get $end)) (i32.const 8)) (local.get $acc1))
        (call $addLanes (i32.add (i32.add (local.get $p) (local.get $end)) (i32.const 16)) (local.get $acc2))
        (call $addLanes (i32.add (i32.add (local.get $p) (local.get $end)) (i32.const 24)) (local.get $acc3))
        ;; the diagonal block: A[j+r][j+c] for c ≤ r adds to p[j+r] (times u[j+c]) and, off the
        ;; diagonal, to p[j+c] (times u[j+r])
        (local.set $r (i32.const 0))
        (loop $blockRows
          (local.set $c (i32.const 0))
          (loop $blockCols
            (local.set $ajk (f64.load (i32.add (i32.add (local.get $r0) (i32.mul (local.get $r) (local.get $rs))) (i32.shl (i32.add (local.get $j) (local.get $c)) (i32.const 3)))))
            (call $addTo (local.get $p) (i32.add (local.get $j) (local.get $r)) (f64.mul (local.get $ajk) (f64.load (i32.add (local.get $u) (i32.shl (i32.add (local.get $j) (local.get $c)) (i32.const 3))))))
            (if (i32.lt_u (local.get $c) (local.get $r))
              (then (call $addTo (local.get $p) (i32.add (local.get $j) (local.get $c)) (f64.mul (local.get $ajk) (f64.load (i32.add (local.get $u) (i32.shl (i32.add (local.get $j) (local.get $r)) (i32.const 3))))))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br_if $blockCols (i32.le_u (local.get $c) (local.get $r))))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $blockRows (i32.lt_u (local.get $r) (i32.const 4))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $quads)))
    ;; the last rows, one at a time
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.gt_s (local.get $j) (local.get $l)))
        (call $symvRow (local.get $a) (local.get $rs) (local.get $u) (local.get $p) (local.get $j))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $rows))))

  ;; One row j of symv: p[k] += A[j][k]·u[j] for k < j, p[j] += Σ_{k ≤ j} A[j][k]·u[k].
  (func $symvRow (param $a i32) (param $rs i32) (param $u i32) (param $p i32) (param $j i32)
    (local $row i32) (local $k i32) (local $end i32) (local $acc v128) (local $ujv v128) (local $av v128)
    (local $uj f64) (local $s f64) (local $tail f64)
    (local.set $row (i32.add (local.get $a) (i32.mul (local.get $j) (local.get $rs))))
    (local.set $uj (f64.load (i32.add (local.get $u) (i32.shl (local.get $j) (i32.const 3)))))
    (local.set $ujv (f64x2.splat (local.get $uj)))
    (local.set $acc (v128.const i64x2 0 0))
    (local.set $end (i32.shl (i32.and (local.get $j) (i32.const -2)) (i32.const 3)))
    (local.set $k (i32.const 0))
    (block $pairsDone
      (loop $pairs
        (br_if $pairsDone (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $av (v128.load (i32.add (local.get $row) (local.get $k))))
        (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (local.get $av) (v128.load (i32.add (local.get $u) (local.get $k))))))
        (v128.store (i32.add (local.get $p) (local.get $k))
          (f64x2.add (v128.load (i32.add (local.get $p) (local.get $k))) (f64x2.mul (local.get $av) (local.get $ujv))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $pairs)))
    (local.set $tail (f64.const 0))
    (if (i32.and (local.get $j) (i32.const 1))
      (then
        (local.set $s (f64.load (i32.add (local.get $row) (local.get $k))))
        (local.set $tail (f64.mul (local.get $s) (f64.load (i32.add (local.get $u) (local.get $k)))))
        (f64.store (i32.add (local.get $p) (local.get $k))
          (f64.add (f64.load (i32.add (local.get $p) (local.get $k))) (f64.mul (local.get $s) (local.get $uj))))))
    (local.set $k (i32.shl (local.get $j) (i32.const 3)))
    (f64.store (i32.add (local.get $p) (local.get $k))
      (f64.add (f64.load (i32.add (local.get $p) (local.get $k)))
        (f64.add (f64.mul (f64.load (i32.add (local.get $row) (local.get $k))) (local.get $uj))
          (f64.add (local.get $tail)
            (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))))))

  ;; p[k] += x
  (func $addTo (param $p i32) (param $k i32) (param $x f64)
    (local $at i32)
    (local.set $at (i32.add (local.get $p) (i32.shl (local.get $k) (i32.const 3))))
    (f64.store (local.get $at) (f64.add (f64.load (local.get $at)) (local.get $x))))

  ;; *at += the two lanes of v summed
  (func $addLanes (param $at i32) (param $v v128)
    (f64.store (local.get $at)
      (f64.add (f64.load (local.get $at)) (f64.add (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v))))))

  ;; dots(v, w, n, count, x, len, alpha, beta): alpha[k] = V_k·x, beta[k] = W_k·x over len values,
  ;; V_k = row k of v, W_k = row k of w (stride n).
  (func (export "dots") (param $v i32) (param $w i32) (param $n i32) (param $count i32) (param $x i32) (param $len i32) (param $alpha i32) (param $beta i32)
    (local $kk i32) (local $c i32) (local $end i32) (local $full i32) (local $sv v128) (local $sw v128) (local $xv v128)
    (local $tv f64) (local $tw f64) (local $xs f64)
    (local.set $full (i32.shl (local.get $len) (i32.const 3)))
    (local.set $end (i32.shl (i32.and (local.get $len) (i32.const -2)) (i32.const 3)))
    (local.set $kk (i32.const 0))
    (block $vecsDone
      (loop $vecs
        (br_if $vecsDone (i32.ge_u (local.get $kk) (local.get $count)))
        (local.set $sv (v128.const i64x2 0 0))
        (local.set $sw (v128.const i64x2 0 0))
        (local.set $c (i32.const 0))
        (block $done
          (loop $pairs
            (br_if $done (i32.ge_u (local.get $c) (local.get $end)))
            (local.set $xv (v128.load (i32.add (local.get $x) (local.get $c))))
            (local.set $sv (f64x2.add (local.get $sv) (f64x2.mul (local.get $xv) (v128.load (i32.add (local.get $v) (local.get $c))))))
            (local.set $sw (f64x2.add (local.get $sw) (f64x2.mul (local.get $xv) (v128.load (i32.add (local.get $w) (local.get $c))))))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $pairs)))
        (local.set $tv (f64.add (f64x2.extract_lane 0 (local.get $sv)) (f64x2.extract_lane 1 (local.get $sv))))
        (local.set $tw (f64.add (f64x2.extract_lane 0 (local.get $sw)) (f64x2.extract_lane 1 (local.get $sw))))
        (if (i32.lt_u (local.get $c) (local.get $full))
          (then
            (local.set $xs (f64.load (i32.add (local.get $x) (local.get $c))))
            (local.set $tv (f64.add (local.get $tv) (f64.mul (local.get $xs) (f64.load (i32.add (local.get $v) (local.get $c))))))
            (local.set $tw (f64.add (local.get $tw) (f64.mul (local.get $xs) (f64.load (i32.add (local.get $w) (local.get $c))))))))
        (f64.store (local.get $alpha) (local.get $tv))
        (f64.store (local.get $beta) (local.get $tw))
        (local.set $alpha (i32.add (local.get $alpha) (i32.const 8)))
        (local.set $beta (i32.add (local.get $beta) (i32.const 8)))
        (local.set $v (i32.add (local.get $v) (i32.shl (local.get $n) (i32.const 3))))
        (local.set $w (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 3))))
        (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
        (br $vecs))))

  ;; subtractPanel(y, v, w, n, count, len, alpha, beta): y[c] -= Σ_k alpha[k]·W_k[c] + beta[k]·V_k[c].
  (func (export "subtractPanel") (param $y i32) (param $v i32) (param $w i32) (param $n i32) (param $count i32) (param $len i32) (param $alpha i32) (param $beta i32)
    (local $kk i32) (local $c i32) (local $end i32) (local $full i32) (local $av v128) (local $bv v128) (local $a f64) (local $b f64) (local $at i32)
    (local.set $full (i32.shl (local.get $len) (i32.const 3)))
    (local.set $end (i32.shl (i32.and (local.get $len) (i32.const -2)) (i32.const 3)))
    (local.set $kk (i32.const 0))
    (block $vecsDone
      (loop $vecs
        (br_if $vecsDone (i32.ge_u (local.get $kk) (local.get $count)))
        (local.set $a (f64.load (local.get $alpha)))
        (local.set $b (f64.load (local.get $beta)))
        (local.set $av (f64x2.splat (local.get $a)))
        (local.set $bv (f64x2.splat (local.get $b)))
        (local.set $c (i32.const 0))
        (block $done
          (loop $pairs
            (br_if $done (i32.ge_u (local.get $c) (local.get $end)))
            (local.set $at (i32.add (local.get $y) (local.get $c)))
            (v128.store (local.get $at)
              (f64x2.sub (v128.load (local.get $at))
                (f64x2.add (f64x2.mul (local.get $av) (v128.load (i32.add (local.get $w) (local.get $c))))
                           (f64x2.mul (local.get $bv) (v128.load (i32.add (local.get $v) (local.get $c)))))))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $pairs)))
        (if (i32.lt_u (local.get $c) (local.get $full))
          (then
            (local.set $at (i32.add (local.get $y) (local.get $c)))
            (f64.store (local.get $at)
              (f64.sub (f64.load (local.get $at))
                (f64.add (f64.mul (local.get $a) (f64.load (i32.add (local.get $w) (local.get $c))))
                         (f64.mul (local.get $b) (f64.load (i32.add (local.get $v) (local.get $c)))))))))
        (local.set $alpha (i32.add (local.get $alpha) (i32.const 8)))
        (local.set $beta (i32.add (local.get $beta) (i32.const 8)))
        (local.set $v (i32.add (local.get $v) (i32.shl (local.get $n) (i32.const 3))))
        (local.set $w (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 3))))
        (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
        (br $vecs))))

  ;; reflectRows(z, n, rows, u, len, h): each of the first `rows` rows z (stride n) becomes
  ;; (I - u·uᵀ/h)·z over its first len values.
  (func (export "reflectRows") (param $z i32) (param $n i32) (param $rows i32) (param $u i32) (param $len i32) (param $h f64)
    (local $q i32) (local $o i32) (local $end i32) (local $full i32) (local $acc v128) (local $f f64) (local $fv v128) (local $at i32)
    (local.set $full (i32.shl (local.get $len) (i32.const 3)))
    (local.set $end (i32.shl (i32.and (local.get $len) (i32.const -2)) (i32.const 3)))
    (local.set $q (i32.const 0))
    (block $rowsDone
      (loop $eachRow
        (br_if $rowsDone (i32.ge_u (local.get $q) (local.get $rows)))
        (local.set $acc (v128.const i64x2 0 0))
        (local.set $o (i32.const 0))
        (block $dotDone
          (loop $dot
            (br_if $dotDone (i32.ge_u (local.get $o) (local.get $end)))
            (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (v128.load (i32.add (local.get $z) (local.get $o))) (v128.load (i32.add (local.get $u) (local.get $o))))))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $dot)))
        (local.set $f (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
        (if (i32.lt_u (local.get $o) (local.get $full))
          (then (local.set $f (f64.add (local.get $f) (f64.mul (f64.load (i32.add (local.get $z) (local.get $o))) (f64.load (i32.add (local.get $u) (local.get $o))))))))
        (local.set $f (f64.div (local.get $f) (local.get $h)))
        (local.set $fv (f64x2.splat (local.get $f)))
        (local.set $o (i32.const 0))
        (block $axpyDone
          (loop $axpy
            (br_if $axpyDone (i32.ge_u (local.get $o) (local.get $end)))
            (local.set $at (i32.add (local.get $z) (local.get $o)))
            (v128.store (local.get $at) (f64x2.sub (v128.load (local.get $at)) (f64x2.mul (local.get $fv) (v128.load (i32.add (local.get $u) (local.get $o))))))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $axpy)))
        (if (i32.lt_u (local.get $o) (local.get $full))
          (then
            (local.set $at (i32.add (local.get $z) (local.get $o)))
            (f64.store (local.get $at) (f64.sub (f64.load (local.get $at)) (f64.mul (local.get $f) (f64.load (i32.add (local.get $u) (local.get $o))))))))
        (local.set $z (i32.add (local.get $z) (i32.shl (local.get $n) (i32.const 3))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $eachRow)))))
