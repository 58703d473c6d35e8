"""How members decide: policies, learning, the door for outside learners."""
