"""The charging planner's pure core: fleet model, flow network, occupancy rounding, answers, baselines."""
