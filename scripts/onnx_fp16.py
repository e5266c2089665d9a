"""FLOAT -> FLOAT16 conversion of an ONNX graph (shared by scripts/make-fp16-models.py and
test/fixtures/make_dtype_corpus.py). Needs Debian python3-onnx and python3-numpy.

to_fp16(model, keep_io_types=False) returns a converted copy:
  * every FLOAT initializer, FLOAT Constant / ConstantOfShape tensor and every FLOAT value type
    (graph inputs, outputs, value_info) becomes FLOAT16, and Cast(to=FLOAT) becomes Cast(to=FLOAT16);
  * operands that must stay FLOAT keep it: Resize roi/scales (inputs 1 and 2), Upsample scales
    (input 1). If such an operand is not a constant, a Cast back to FLOAT is inserted before the op.
    Integer operands (shapes, Slice starts, Reshape shape, ...) are left untouched;
  * a node with a constant FLOAT input holding values beyond the FLOAT16 range (e.g. the
    PP-OCRv4 det head's BatchNormalization, whose running variance reaches 1e8) stays a FLOAT
    island: its constants stay FLOAT, its other FLOAT16 inputs are Cast to FLOAT and its outputs
    Cast back to FLOAT16. Other values are clipped to the finite FLOAT16 range before rounding
    (round-to-nearest-even, numpy);
  * keep_io_types=True keeps FLOAT graph inputs/outputs: a Cast to FLOAT16 after each FLOAT input
    and a Cast to FLOAT before each FLOAT output (as onnxconverter-common's keep_io_types does).
Ops without a FLOAT16 CPU kernel (e.g. Conv on x86) still run in onnxruntime: its CPU execution
provider inserts Casts around them.
"""
import copy

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FP16_MAX = float(np.finfo(np.float16).max)

# op_type -> input positions that must stay FLOAT whatever the compute type.
MUST_STAY_FLOAT = {
    "Resize": (1, 2),
    "Upsample": (1,),
}


def _to_fp16_tensor(t):
    arr = numpy_helper.to_array(t).astype(np.float32)
    out = numpy_helper.from_array(np.clip(arr, -FP16_MAX, FP16_MAX).astype(np.float16), t.name)
    return out


def _retype(value_info, keep):
    tt = value_info.type.tensor_type
    if tt.elem_type == TensorProto.FLOAT and value_info.name not in keep:
        tt.elem_type = TensorProto.FLOAT16


def to_fp16(model, keep_io_types=False):
    m = copy.deepcopy(model)
    g = m.graph
    producers = {o: n for n in g.node for o in n.output}
    init_names = {t.name for t in g.initializer}

    keep = set()  # tensor names that stay FLOAT
    consts = {t.name: t for t in g.initializer}
    consts.update({n.output[0]: n.attribute[0].t for n in g.node
                   if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value"})
    out_of_range = {k for k, t in consts.items() if t.data_type == TensorProto.FLOAT
                    and np.abs(numpy_helper.to_array(t)).max(initial=0) > FP16_MAX}
    blocked = [n for n in g.node if n.op_type != "Constant" and any(x in out_of_range for x in n.input)]
    island_nodes = []
    for k, n in enumerate(blocked):
        for i, x in enumerate(n.input):
            if not x:
                continue
            if x in consts:
                if consts[x].data_type == TensorProto.FLOAT:
                    keep.add(x)
            else:
                wide = f"{x}_as_float_{k}_{i}"
                island_nodes.append((n, helper.make_node("Cast", [x], [wide], name=f"{n.name or n.op_type}_in{i}_to_fp32", to=TensorProto.FLOAT), "before"))
                n.input[i] = wide
        for j, y in enumerate(n.output):
            wide = f"{y}_fp32"
            island_nodes.append((n, helper.make_node("Cast", [wide], [y], name=f"{n.name or n.op_type}_out{j}_to_fp16", to=TensorProto.FLOAT16), "after"))
            n.output[j] = wide
    casts_needed = []  # (node, input index) whose operand is computed and must be cast back
    for n in g.node:
        for i in MUST_STAY_FLOAT.get(n.op_type, ()):
            if i < len(n.input) and n.input[i]:
                name = n.input[i]
                p = producers.get(name)
                if name in init_names or (p is not None and p.op_type == "Constant"):
                    keep.add(name)
                else:
                    casts_needed.append((n, i))

    for i, t in enumerate(g.initializer):
        if t.data_type == TensorProto.FLOAT and t.name not in keep:
            g.initializer[i].CopyFrom(_to_fp16_tensor(t))

    for n in g.node:
        if n.op_type in ("Constant", "ConstantOfShape"):
            if n.op_type == "Constant" and n.output[0] in keep:
                continue
            for a in n.attribute:
                if a.name == "value" and a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TensorProto.FLOAT:
                    a.t.CopyFrom(_to_fp16_tensor(a.t))
                elif a.name == "value_float":  # Constant-12 scalar attribute
                    v = a.f
                    n.ClearField("attribute")
                    n.attribute.extend([helper.make_attribute("value", numpy_helper.from_array(np.array(v, np.float16)))])
                    break
                elif a.name == "value_floats":
                    v = list(a.floats)
                    n.ClearField("attribute")
                    n.attribute.extend([helper.make_attribute("value", numpy_helper.from_array(np.array(v, np.float16)))])
                    break
        elif n.op_type == "Cast":
            for a in n.attribute:
                if a.name == "to" and a.i == TensorProto.FLOAT and n.output[0] not in keep:
                    a.i = TensorProto.FLOAT16
        elif n.op_type == "EyeLike" or n.op_type.startswith("Random"):
            for a in n.attribute:
                if a.name == "dtype" and a.i == TensorProto.FLOAT:
                    a.i = TensorProto.FLOAT16

    new_nodes = []
    for k, (n, i) in enumerate(casts_needed):
        src = n.input[i]
        dst = f"{src}_as_float_{k}"
        new_nodes.append((n, helper.make_node("Cast", [src], [dst], name=f"{n.name or n.op_type}_keep_float_{i}", to=TensorProto.FLOAT)))
        n.input[i] = dst
    for n, cast in new_nodes:
        idx = list(g.node).index(n)
        g.node.insert(idx, cast)

    for n, cast, where in island_nodes:
        idx = list(g.node).index(n)
        g.node.insert(idx if where == "before" else idx + 1, cast)
    m.graph.value_info.extend(helper.make_tensor_value_info(y, TensorProto.FLOAT, None) for n in blocked for y in n.output)
    keep.update(y for n in blocked for y in n.output)

    for vi in g.value_info:
        _retype(vi, keep)

    if not keep_io_types:
        for vi in list(g.input) + list(g.output):
            _retype(vi, keep)
        return m

    # keep_io_types: FLOAT at the boundary, FLOAT16 inside.
    for inp in g.input:
        if inp.type.tensor_type.elem_type != TensorProto.FLOAT or inp.name in init_names:
            continue
        inner = inp.name + "_fp16"
        for n in g.node:
            for j, x in enumerate(n.input):
                if x == inp.name:
                    n.input[j] = inner
        g.node.insert(0, helper.make_node("Cast", [inp.name], [inner], name=inp.name + "_cast_to_fp16", to=TensorProto.FLOAT16))
    for out in g.output:
        if out.type.tensor_type.elem_type != TensorProto.FLOAT:
            continue
        inner = out.name + "_fp16"
        for n in g.node:
            for j, x in enumerate(n.output):
                if x == out.name:
                    n.output[j] = inner
            for j, x in enumerate(n.input):
                if x == out.name:
                    n.input[j] = inner
        g.node.append(helper.make_node("Cast", [inner], [out.name], name=out.name + "_cast_to_fp32", to=TensorProto.FLOAT))
    return m
