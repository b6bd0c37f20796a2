"""``Sequential.summary``'s table, Keras' layout: layer (type), output shape, parameters."""


def summary_table(name, layers, input_shape):
    """The table as text for built ``layers`` fed inputs of ``input_shape`` (no batch axis)."""
    rows, shape = [], tuple(input_shape)
    for layer in layers:
        shape = layer.compute_output_shape(shape)
        rows.append((f"{layer.name} ({type(layer).__name__})",
                     f"(None, {', '.join(map(str, shape))})",
                     layer.count_params() + layer.count_state()))
    head = ("Layer (type)", "Output Shape", "Param #")
    w = [max(len(r[i]) for r in rows + [head]) + 3 for i in range(2)]
    w.append(max(len(f"{r[2]:,}") for r in rows + [(0, 0, 0)]) + 3)
    line = "\u2500" * sum(w)
    out = [f'Model: "{name}"', line, f"{head[0]:<{w[0]}}{head[1]:<{w[1]}}{head[2]:>{w[2]}}", line]
    out += [f"{a:<{w[0]}}{b:<{w[1]}}{c:>{w[2]},}" for a, b, c in rows]
    trainable = sum(layer.count_params() for layer in layers)
    state = sum(layer.count_state() for layer in layers)
    out += [line, f"Total params: {trainable + state:,}", f"Trainable params: {trainable:,}",
            f"Non-trainable params: {state:,}", line]
    return "\n".join(out)
