"""Hardware-in-the-loop helpers: build the AVR firmware and run it in the simulator."""
